import fc from 'fast-check';
import { dateBefore } from './offsets';
import { addDays, isAllowed, localDate, nextAllowed, wallClock, zonedInstant } from './zoned-time';

const iso = (t: number) => new Date(t).toISOString();
const at = (s: string) => Date.parse(s);

describe('zonedInstant: a wall-clock time in a zone', () => {
  it('uses the offset of that day, not of today (New York: EST in winter, EDT after 8 March 2026)', () => {
    expect(iso(zonedInstant('2026-03-07', '08:00', 'America/New_York'))).toBe('2026-03-07T13:00:00.000Z');
    expect(iso(zonedInstant('2026-03-08', '08:00', 'America/New_York'))).toBe('2026-03-08T12:00:00.000Z');
    expect(iso(zonedInstant('2026-03-29', '10:00', 'Europe/Madrid'))).toBe('2026-03-29T08:00:00.000Z');
    expect(iso(zonedInstant('2026-03-28', '10:00', 'Europe/Madrid'))).toBe('2026-03-28T09:00:00.000Z');
    expect(iso(zonedInstant('2026-05-19', '10:00', 'America/Bogota'))).toBe('2026-05-19T15:00:00.000Z');
  });

  it('resolves a time inside the spring-forward gap to the end of the gap', () => {
    // 02:30 does not exist on 8 March 2026 in New York: clocks jump from 02:00 EST to 03:00 EDT.
    expect(iso(zonedInstant('2026-03-08', '02:30', 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(zonedInstant('2026-03-29', '02:15', 'Europe/Madrid'))).toBe('2026-03-29T01:00:00.000Z');
  });

  it('resolves a repeated time (fall back) to its first occurrence', () => {
    expect(iso(zonedInstant('2026-11-01', '01:30', 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(zonedInstant('2026-10-25', '02:30', 'Europe/Madrid'))).toBe('2026-10-25T00:30:00.000Z');
  });

  it('round-trips through the wall clock for any day and minute in DST zones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 * 366 }),
        fc.integer({ min: 0, max: 1439 }),
        fc.constantFrom('Europe/Madrid', 'America/New_York', 'Australia/Sydney', 'Asia/Dubai', 'America/Bogota'),
        (dayIndex, minute, zone) => {
          const date = addDays('2026-01-01', dayIndex);
          const time = `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
          const t = zonedInstant(date, time, zone);
          const w = wallClock(t, zone);
          const shown = w.hour * 60 + w.minute;
          // Either exactly that wall time, or (in a gap) the first minute after it on that day.
          expect(localDate(t, zone)).toBe(date);
          expect(shown).toBeGreaterThanOrEqual(minute);
          if (shown !== minute) expect(shown - minute).toBeLessThanOrEqual(60);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('nextAllowed: the next minute inside the sending window, in the citizen zone', () => {
  const window = { start: '08:00', end: '20:00' };

  it('keeps an allowed instant', () => {
    expect(nextAllowed(at('2026-05-19T15:00:00Z'), window, 'America/Bogota')).toBe(at('2026-05-19T15:00:00Z'));
  });

  it('moves a late-evening instant to 08:00 next morning, across the DST change', () => {
    // 22:30 EST on 7 March → 08:00 EDT on 8 March, which is 12:00Z (13:00Z with yesterday's offset).
    expect(iso(nextAllowed(at('2026-03-08T03:30:00Z'), window, 'America/New_York'))).toBe('2026-03-08T12:00:00.000Z');
    // Madrid, night of 28→29 March 2026: 23:00 CET → 08:00 CEST.
    expect(iso(nextAllowed(at('2026-03-28T22:00:00Z'), window, 'Europe/Madrid'))).toBe('2026-03-29T06:00:00.000Z');
    // And back in autumn: 21:00 CEST on 24 October → 08:00 CET on 25 October.
    expect(iso(nextAllowed(at('2026-10-24T19:00:00Z'), window, 'Europe/Madrid'))).toBe('2026-10-25T07:00:00.000Z');
  });

  it('moves an early-morning instant to 08:00 the same day', () => {
    expect(iso(nextAllowed(at('2026-06-27T11:00:00Z'), window, 'America/Bogota'))).toBe('2026-06-27T13:00:00.000Z');
  });

  it('treats end as exclusive and handles windows that wrap midnight', () => {
    expect(iso(nextAllowed(at('2026-06-27T01:00:00Z'), window, 'America/Bogota'))).toBe('2026-06-27T13:00:00.000Z'); // 20:00 local
    const night = { start: '22:00', end: '06:00' };
    expect(nextAllowed(at('2026-06-27T04:00:00Z'), night, 'America/Bogota')).toBe(at('2026-06-27T04:00:00Z')); // 23:00 local
    expect(iso(nextAllowed(at('2026-06-27T15:00:00Z'), night, 'America/Bogota'))).toBe('2026-06-28T03:00:00.000Z');
  });

  it('never goes backwards, always lands inside the window, and never skips an allowed day', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2028-12-31T00:00:00Z') }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 23 }),
        fc.constantFrom('Europe/Madrid', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Dubai'),
        (instant, startHour, length, zone) => {
          const endHour = (startHour + length) % 24;
          const w = { start: `${String(startHour).padStart(2, '0')}:00`, end: `${String(endHour).padStart(2, '0')}:00` };
          const t = nextAllowed(instant, w, zone);
          expect(t).toBeGreaterThanOrEqual(instant);
          expect(isAllowed(t, w, zone)).toBe(true);
          expect(t - instant).toBeLessThanOrEqual(26 * 3600_000);
          // Nothing allowed in between (checked every 15 minutes).
          for (let probe = instant; probe < t; probe += 15 * 60_000) expect(isAllowed(probe, w, zone)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('dateBefore: reminder offsets on the calendar', () => {
  it('counts weeks and days exactly, across a leap day', () => {
    expect(dateBefore('2028-04-11', 'P6W')).toBe('2028-02-29');
    expect(dateBefore('2028-03-07', 'P1W')).toBe('2028-02-29');
    expect(dateBefore('2027-03-07', 'P1W')).toBe('2027-02-28');
    expect(dateBefore('2028-02-29', 'P6W')).toBe('2028-01-18');
    expect(dateBefore('2026-06-30', 'P0D')).toBe('2026-06-30');
  });

  it('clamps months and years to the end of the month', () => {
    expect(dateBefore('2026-03-31', 'P1M')).toBe('2026-02-28');
    expect(dateBefore('2028-03-31', 'P1M')).toBe('2028-02-29');
    expect(dateBefore('2026-05-31', 'P1M')).toBe('2026-04-30');
    expect(dateBefore('2026-01-31', 'P1M')).toBe('2025-12-31');
    expect(dateBefore('2028-02-29', 'P1Y')).toBe('2027-02-28');
    expect(dateBefore('2032-02-29', 'P4Y')).toBe('2028-02-29');
    expect(dateBefore('2026-03-31', 'P1M1W')).toBe('2026-02-21');
  });

  it('refuses what is not an offset', () => {
    expect(() => dateBefore('2026-03-31', '6 weeks')).toThrow(/not an offset/);
    expect(() => dateBefore('2026-03-31', 'P')).toThrow(/not an offset/);
  });

  it('is monotonic and exact for day offsets (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3650 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 24 }),
        (d, days, months) => {
          const date = addDays('2024-01-01', d);
          expect(dateBefore(date, `P${days}D`)).toBe(addDays(date, -days));
          const a = dateBefore(date, `P${months}M`);
          const b = dateBefore(date, `P${months + 1}M`);
          expect(b < a || (months === 0 && b < date)).toBe(true);
          expect(Number(a.slice(8))).toBeLessThanOrEqual(Number(date.slice(8)));
        },
      ),
    );
  });
});
