import fc from 'fast-check';
import { outcomeItem, type NoticeRow } from '../outcome/outcomes';
import { resolvePolicy, type EffectivePolicy } from '../policy/policy.model';
import { AGENCY_EVENT_TYPES, applyEvent, noticeId, planNotices, type AgencyEvent, type Subject } from './plan';
import { isAllowed } from './zoned-time';

const iso = (t: number) => new Date(t).toISOString();
const at = (s: string) => Date.parse(s);

const roads = { id: 'roads-agency', timeZone: 'America/Bogota', quietHours: { start: '08:00', end: '20:00' }, defaultLanguage: 'es' };
const policy: EffectivePolicy = resolvePolicy(roads, undefined, 'default');

let seq = 0;
function expiring(expiresOn: string, extra: { time?: string; timeZone?: string; documentId?: string } = {}): AgencyEvent {
  return {
    id: `evt-${++seq}`,
    type: AGENCY_EVENT_TYPES.expiring,
    time: extra.time ?? '',
    tenantId: 'roads-agency',
    data: {
      tenantId: 'roads-agency',
      citizen: { subjectId: 'cit-1', whatsapp: '+573001112233', preferredLanguage: 'es', timeZone: extra.timeZone },
      document: { documentId: extra.documentId ?? 'LIC-1', documentType: 'driving_licence' },
      expiresOn,
    },
  };
}
const event = (type: string, data: object, time = ''): AgencyEvent => ({
  id: `evt-${++seq}`,
  type,
  time,
  tenantId: 'roads-agency',
  data: { tenantId: 'roads-agency', citizen: { subjectId: 'cit-1', whatsapp: '+573001112233' }, ...data },
});
const subjectOf = (...events: AgencyEvent[]) => events.reduce<Subject | undefined>((s, e) => applyEvent(s, e) ?? s, undefined)!;
const summary = (subject: Subject, now: number, p = policy) =>
  planNotices(subject, p, now).map((n) => ({ slot: n.slot, dueAt: iso(n.dueAt), deadlineAt: iso(n.deadlineAt), catchUp: n.catchUp }));

describe('what a subject remembers of its events', () => {
  it('keeps the citizen’s name when a later event of the same document omits it', () => {
    const first = expiring('2026-06-30');
    (first.data as { citizen: { name?: string } }).citizen.name = 'Ana';
    const renewed = event(AGENCY_EVENT_TYPES.renewed, {
      document: { documentId: 'LIC-1', documentType: 'driving_licence' },
      newExpiresOn: '2036-06-30',
      renewedOn: '2026-02-01',
    });
    const subject = subjectOf(first, renewed);
    expect(subject.data.citizen).toEqual({ subjectId: 'cit-1', whatsapp: '+573001112233', preferredLanguage: 'es', name: 'Ana' });
    expect(subject.dueDate).toBe('2036-06-30');
  });
});

describe('planning reminders for an expiring document', () => {
  it('plans 6 weeks and 1 week before, at 10:00 in the tenant zone', () => {
    expect(summary(subjectOf(expiring('2026-06-30')), at('2026-01-10T12:00:00Z'))).toEqual([
      { slot: 'P6W', dueAt: '2026-05-19T15:00:00.000Z', deadlineAt: '2026-06-23T15:00:00.000Z', catchUp: false },
      { slot: 'P1W', dueAt: '2026-06-23T15:00:00.000Z', deadlineAt: '2026-07-01T05:00:00.000Z', catchUp: false },
    ]);
  });

  it('uses the citizen zone when the agency gives one', () => {
    const s = subjectOf(expiring('2026-06-30', { timeZone: 'Europe/Madrid' }));
    expect(summary(s, at('2026-01-10T12:00:00Z')).map((n) => n.dueAt)).toEqual(['2026-05-19T08:00:00.000Z', '2026-06-23T08:00:00.000Z']);
  });

  it('sends one reminder now for an expiry in 3 days, not two', () => {
    // 12:00Z is 07:00 in Bogota: quiet until 08:00.
    expect(summary(subjectOf(expiring('2026-06-30')), at('2026-06-27T12:00:00Z'))).toEqual([
      { slot: 'P1W', dueAt: '2026-06-27T13:00:00.000Z', deadlineAt: '2026-07-01T05:00:00.000Z', catchUp: true },
    ]);
  });

  it('catches up the missed reminder and keeps the coming one for an expiry in 20 days', () => {
    expect(summary(subjectOf(expiring('2026-06-30')), at('2026-06-10T16:00:00Z'))).toEqual([
      { slot: 'P6W', dueAt: '2026-06-10T16:00:00.000Z', deadlineAt: '2026-06-23T15:00:00.000Z', catchUp: true },
      { slot: 'P1W', dueAt: '2026-06-23T15:00:00.000Z', deadlineAt: '2026-07-01T05:00:00.000Z', catchUp: false },
    ]);
  });

  it('plans nothing once the expiry date is over, but still reminds on the day itself', () => {
    expect(summary(subjectOf(expiring('2026-06-30')), at('2026-07-01T05:00:00Z'))).toEqual([]);
    expect(summary(subjectOf(expiring('2026-06-30')), at('2026-06-30T22:00:00Z'))).toHaveLength(1);
  });

  it('plans nothing after a renewal or a cancellation, and replans for a renewal with a new date', () => {
    const now = at('2026-01-10T12:00:00Z');
    const renewed = event(AGENCY_EVENT_TYPES.renewed, { document: { documentId: 'LIC-1', documentType: 'driving_licence' } });
    expect(planNotices(subjectOf(expiring('2026-06-30'), renewed), policy, now)).toEqual([]);
    const cancelled = event(AGENCY_EVENT_TYPES.cancelled, { document: { documentId: 'LIC-1', documentType: 'driving_licence' } });
    expect(planNotices(subjectOf(expiring('2026-06-30'), cancelled), policy, now)).toEqual([]);
    const renewedUntil = event(AGENCY_EVENT_TYPES.renewed, {
      document: { documentId: 'LIC-1', documentType: 'driving_licence' },
      newExpiresOn: '2031-06-30',
    });
    expect(summary(subjectOf(expiring('2026-06-30'), renewedUntil), now).map((n) => n.dueAt)).toEqual([
      '2031-05-19T15:00:00.000Z',
      '2031-06-23T15:00:00.000Z',
    ]);
  });

  it('gives the same ids for the same date and new ids for a changed date', () => {
    const now = at('2026-01-10T12:00:00Z');
    const a = planNotices(subjectOf(expiring('2026-06-30')), policy, now).map((n) => n.id);
    const again = planNotices(subjectOf(expiring('2026-06-30')), policy, now + 86400_000).map((n) => n.id);
    const moved = planNotices(subjectOf(expiring('2026-07-31')), policy, now).map((n) => n.id);
    expect(again).toEqual(a);
    expect(moved.some((id) => a.includes(id))).toBe(false);
    expect(a[0]).toBe(noticeId('roads-agency', 'document', 'LIC-1', 'document_expiry', 'P6W', '2026-06-30'));
    expect(a[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps the ids notices have always had (the platform namespace of @wa/conversation)', () => {
    // Pinned values: notice ids are request ids and callback data of sends already made; a change
    // here would send those notices again.
    expect(noticeId('roads-agency', 'document', 'LIC-1', 'document_expiry', 'P6W', '2026-06-30')).toBe(
      '5c2d1a16-bc20-568a-9a7c-1fe94799ff66',
    );
    expect(noticeId('roads-agency', 'payment', 'PAY-9', 'payment_received', 'now', '2026-06-30')).toBe(
      'd58f19bb-215e-5770-b734-2830d5fe4a2d',
    );
    const notice = { id: '9e512578-34b2-577c-820c-30ebecb514d8', kind: 'document', ref: 'LIC-1' } as NoticeRow;
    expect(outcomeItem(notice, 'sent', new Date(0)).id).toBe('8a1d1147-5269-5003-b240-c03c4f7ce332');
  });

  it('ignores an event older (by ce_time) than the last one applied', () => {
    const renewed = event(
      AGENCY_EVENT_TYPES.renewed,
      { document: { documentId: 'LIC-1', documentType: 'driving_licence' } },
      '2026-02-01T00:00:00Z',
    );
    const s = subjectOf(expiring('2026-06-30', { time: '2026-01-01T00:00:00Z' }), renewed);
    expect(applyEvent(s, expiring('2026-06-30', { time: '2026-01-15T00:00:00Z' }))).toBeUndefined();
    expect(applyEvent(s, expiring('2026-09-30', { time: '2026-02-02T00:00:00Z' }))?.status).toBe('active');
  });

  it('handles leap-day and end-of-month expiries with month offsets', () => {
    const monthly = resolvePolicy(roads, { notices: { document_expiry: { offsets: ['P1M', 'P1Y'] } } }, 'admin');
    const leap = summary(subjectOf(expiring('2028-02-29')), at('2026-01-01T00:00:00Z'), monthly);
    expect(leap.map((n) => [n.slot, n.dueAt.slice(0, 10)])).toEqual([
      ['P1Y', '2027-02-28'],
      ['P1M', '2028-01-29'],
    ]);
    // The 1-year reminder (31 March 2025) is already missed: one catch-up now (19:00 local), then 28 February.
    const endOfMonth = summary(subjectOf(expiring('2026-03-31')), at('2026-01-01T00:00:00Z'), monthly);
    expect(endOfMonth.map((n) => [n.slot, n.dueAt, n.catchUp])).toEqual([
      ['P1Y', '2026-01-01T00:00:00.000Z', true],
      ['P1M', '2026-02-28T15:00:00.000Z', false],
    ]);
  });
});

describe('planning other notices', () => {
  const now = at('2026-03-02T02:00:00Z'); // 21:00 in Bogota: quiet

  it('payment due: 3 days before and on the day; a payment cancels them and sends a receipt', () => {
    const due = event(AGENCY_EVENT_TYPES.paymentDue, { reference: 'TAX-9', amount: '125.50', currency: 'COP', dueOn: '2026-03-20' });
    expect(summary(subjectOf(due), now).map((n) => [n.slot, n.dueAt])).toEqual([
      ['P3D', '2026-03-17T15:00:00.000Z'],
      ['P0D', '2026-03-20T15:00:00.000Z'],
    ]);
    const paid = event(AGENCY_EVENT_TYPES.paymentReceived, {
      reference: 'TAX-9',
      amount: '125.50',
      currency: 'COP',
      receivedAt: '2026-03-02T01:00:00Z',
    });
    const notices = planNotices(subjectOf(due, paid), policy, now);
    expect(notices.map((n) => [n.noticeType, n.slot, iso(n.dueAt)])).toEqual([['payment_received', 'now', '2026-03-02T13:00:00.000Z']]);
    expect(notices[0].deadlineAt - notices[0].plannedAt).toBe(72 * 3600_000);
  });

  it('documents ready and application received are immediate, once', () => {
    const ready = event(AGENCY_EVENT_TYPES.documentsReady, { reference: 'COL-1', mode: 'collection', location: 'Office 3' });
    const first = planNotices(subjectOf(ready), policy, now);
    const later = planNotices(subjectOf(ready), policy, now + 3600_000);
    expect(first.map((n) => [n.noticeType, n.slot])).toEqual([['documents_ready', 'now']]);
    expect(later[0].id).toBe(first[0].id);
    const received = event(AGENCY_EVENT_TYPES.applicationReceived, {
      reference: 'APP-1',
      applicationType: 'visa',
      receivedAt: '2026-03-01T10:00:00Z',
    });
    expect(planNotices(subjectOf(received), policy, now).map((n) => n.noticeType)).toEqual(['application_received']);
  });

  it('a disabled notice type plans nothing', () => {
    const off = resolvePolicy(roads, { notices: { document_expiry: { enabled: false } } }, 'admin');
    expect(planNotices(subjectOf(expiring('2026-06-30')), off, now)).toEqual([]);
  });
});

describe('planning properties', () => {
  it('never plans a burst, never plans for a past date, always inside the window, deadlines after plans', () => {
    const offsetArb = fc.oneof(
      fc.integer({ min: 0, max: 120 }).map((d) => `P${d}D`),
      fc.integer({ min: 1, max: 12 }).map((w) => `P${w}W`),
      fc.integer({ min: 1, max: 13 }).map((m) => `P${m}M`),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2030-01-01T00:00:00Z') }),
        fc.uniqueArray(offsetArb, { minLength: 1, maxLength: 5 }),
        fc.constantFrom('Europe/Madrid', 'America/New_York', 'America/Bogota', 'Asia/Dubai'),
        (dayIndex, now, offsets, zone) => {
          const expiresOn = new Date(at('2026-01-01T00:00:00Z') + dayIndex * 86400_000).toISOString().slice(0, 10);
          const p = resolvePolicy({ ...roads, timeZone: zone }, { notices: { document_expiry: { offsets } } }, 'admin');
          const notices = planNotices(subjectOf(expiring(expiresOn)), p, now);
          expect(notices.length).toBeLessThanOrEqual(offsets.length);
          expect(notices.filter((n) => n.catchUp).length).toBeLessThanOrEqual(1);
          expect(notices.filter((n) => n.dueAt < now + 26 * 3600_000 && n.plannedAt <= now).length).toBeLessThanOrEqual(1);
          for (const n of notices) {
            expect(n.dueAt).toBeGreaterThanOrEqual(n.plannedAt);
            expect(n.plannedAt).toBeGreaterThanOrEqual(now);
            expect(isAllowed(n.dueAt, p.quietHours, zone)).toBe(true);
            expect(n.deadlineAt).toBeGreaterThan(n.plannedAt);
          }
          const ids = notices.map((n) => n.id);
          expect(new Set(ids).size).toBe(ids.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
