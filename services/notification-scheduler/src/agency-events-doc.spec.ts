import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvent, Topics, validatePayload } from '@wa/contracts';

// docs/agency-events.md is what agency developers copy: its examples must stay valid events.
const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'agency-events.md'), 'utf8');

describe('docs/agency-events.md examples', () => {
  it('console-producer lines decode as valid agency events with the right key', () => {
    const lines = [...doc.matchAll(/printf '%s\\t%s\\t%s\\n' \\\n {2}'([^']+)' \\\n {2}'([^']+)' \\\n {2}'([^']+)'/g)];
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const [, headerText, key, value] of lines) {
      // KIP-798: pairs split on ',', name and value on the first ':'.
      const headers = Object.fromEntries(
        headerText.split(',').map((pair) => [pair.slice(0, pair.indexOf(':')), pair.slice(pair.indexOf(':') + 1)]),
      );
      const envelope = decodeEvent(Topics.agencyEvent, value, headers);
      expect(Topics.agencyEvent.key(envelope.data as never)).toBe(key);
      expect(headers.ce_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
  });

  it('JSON payload examples validate against the class of the type named under them', () => {
    const blocks = [...doc.matchAll(/```json\n(.+)\n```\n\(`([a-z.-]+\.v1)`\)/g)];
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const [, json, type] of blocks) {
      const cls = Topics.agencyEvent.types[type];
      expect({ type, known: Boolean(cls) }).toEqual({ type, known: true });
      expect({ type, errors: validatePayload(cls, JSON.parse(json)).errors }).toEqual({ type, errors: [] });
    }
  });

  it('the outcome example is a valid outcome event', () => {
    const outcome = /```json\n(\{"tenantId":"roads-agency","noticeId".+)\n```/.exec(doc);
    expect(outcome).not.toBeNull();
    const cls = Topics.notificationOutcome.types['agency.notification.outcome.v1'];
    expect(validatePayload(cls, JSON.parse(outcome![1])).errors).toEqual([]);
  });
});
