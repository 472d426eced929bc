import './validation-cache';
import { CE, ContractViolation, decodeEvent, encodeEvent, encodeTombstone } from './envelope';
import type { CitizenConsentV1 } from './events/outbound';
import { ALL_TOPICS, Topics, topicByName } from './topics';

const consent: CitizenConsentV1 = {
  tenantId: 'roads-agency',
  contact: { waId: '573001234567' },
  category: 'utility',
  state: 'opted_out',
  channel: 'whatsapp-keyword',
  occurredAt: '2026-11-26T10:00:00.000Z',
} as CitizenConsentV1;

describe('CloudEvents envelope', () => {
  it('round-trips a payload through the binary-mode headers', () => {
    const record = encodeEvent(Topics.citizenConsent, consent, { source: '/services/chatbot', subject: 'c-1' });
    expect(record.key).toBe('roads-agency:573001234567');
    expect(record.headers).toMatchObject({
      [CE.specversion]: '1.0',
      [CE.type]: 'citizen.consent.v1',
      [CE.source]: '/services/chatbot',
      [CE.subject]: 'c-1',
      [CE.tenant]: 'roads-agency',
      [CE.contentType]: 'application/json',
    });
    expect(Object.keys(record.headers)).toEqual([
      CE.specversion,
      CE.id,
      CE.type,
      CE.source,
      CE.time,
      CE.tenant,
      CE.subject,
      CE.contentType,
    ]);
    const decoded = decodeEvent(Topics.citizenConsent, Buffer.from(record.value), record.headers);
    expect(decoded).toMatchObject({ id: record.headers[CE.id], tenantId: 'roads-agency', tombstone: false, data: consent });
  });

  it('stamps ce_time from a Date, keeps an already formatted one as given, and defaults to now', () => {
    const at = (time?: Date | string) => encodeEvent(Topics.citizenConsent, consent, { source: '/x', time }).headers[CE.time];
    expect(at(new Date('2026-11-26T10:00:00Z'))).toBe('2026-11-26T10:00:00.000Z');
    expect(at('2026-11-26T10:00:00.123Z')).toBe('2026-11-26T10:00:00.123Z');
    const before = Date.now();
    expect(Date.parse(at())).toBeGreaterThanOrEqual(before - 1);
  });

  it("carries a raw webhook as Meta's bytes, with the other fields as attributes, and decodes it back", () => {
    const body = '{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"text":"\\u00bfQu\\u00e9? \\"ok\\""}}]}]}';
    const raw = {
      tenantId: 'roads-agency',
      appId: 'roads-app',
      receivedAt: '2026-11-26T10:00:00.123Z',
      body,
      signature: `sha256=${'ab'.repeat(32)}`,
    };
    const record = encodeEvent(Topics.webhookRaw, raw, { source: '/services/webhook-ingress', id: '3b1c2d4e-5f60-8a7b-9c0d-1e2f3a4b5c6d' });
    // Nothing escaped again: the value is the body, byte for byte.
    expect(record.value).toBe(body);
    expect(record.headers).toMatchObject({
      [CE.type]: 'wa.webhook.raw.v2',
      [CE.tenant]: 'roads-agency',
      [CE.time]: raw.receivedAt,
      [CE.contentType]: 'application/json',
      ce_waappid: 'roads-app',
      ce_wasignature: raw.signature,
    });
    expect(decodeEvent(Topics.webhookRaw, Buffer.from(record.value), record.headers)).toMatchObject({
      tenantId: 'roads-agency',
      data: raw,
    });

    const { ce_wasignature: _dropped, ...unsigned } = record.headers;
    expect(() => decodeEvent(Topics.webhookRaw, Buffer.from(record.value), unsigned)).toThrow(/signature/);
  });

  it('refuses to publish an invalid payload, naming the fields', () => {
    const bad = { ...consent, category: 'sometimes', contact: { phone: '0300' } };
    expect(() => encodeEvent(Topics.citizenConsent, bad, { source: '/x' })).toThrow(/contact\.phone: phone must be E\.164/);
    expect(() => encodeEvent(Topics.citizenConsent, bad, { source: '/x' })).toThrow(/category: category must be one of/);
  });

  it('needs a type on a topic that carries several', () => {
    expect(() => encodeEvent(Topics.agencyEvent, {} as never, { source: '/x' })).toThrow(/several types/);
  });

  it.each([
    ['not-json', '{oops', {}],
    ['unknown-type', JSON.stringify(consent), { [CE.type]: 'citizen.consent.v2' }],
    ['missing-header', JSON.stringify(consent), { [CE.id]: undefined }],
    ['tenant-mismatch', JSON.stringify(consent), { [CE.tenant]: 'immigration-dept' }],
    ['invalid-payload', JSON.stringify({ ...consent, state: 'maybe' }), {}],
    ['invalid-payload', '[1,2]', {}],
  ])('names a %s record', (reason, value, headerOverrides) => {
    const headers = { ...encodeEvent(Topics.citizenConsent, consent, { source: '/x' }).headers, ...headerOverrides };
    try {
      decodeEvent(Topics.citizenConsent, Buffer.from(value), headers);
      throw new Error('decoded');
    } catch (error) {
      expect(error).toBeInstanceOf(ContractViolation);
      expect((error as ContractViolation).reason).toBe(reason);
    }
  });

  it('accepts tombstones only on compacted topics', () => {
    const headers = { [CE.id]: 'x', [CE.type]: 'templates.catalog.v1', [CE.source]: '/x', [CE.tenant]: 'roads-agency' };
    expect(decodeEvent(Topics.templateCatalog, null, headers).tombstone).toBe(true);
    expect(() => decodeEvent(Topics.citizenConsent, null, { ...headers, [CE.type]: 'citizen.consent.v1' })).toThrow(ContractViolation);
  });

  it('encodes tombstones that decode as such, and only for compacted topics', () => {
    const tombstone = encodeTombstone(Topics.templateCatalog, 'roads-agency:notice:es', 'roads-agency', { source: '/tests' });
    expect(tombstone).toMatchObject({ key: 'roads-agency:notice:es', value: null });
    expect(decodeEvent(Topics.templateCatalog, tombstone.value, tombstone.headers)).toMatchObject({
      type: 'templates.catalog.v1',
      tenantId: 'roads-agency',
      tombstone: true,
    });
    expect(() => encodeTombstone(Topics.citizenConsent, 'k', 'roads-agency', { source: '/tests' })).toThrow(/not compacted/);
  });
});

describe('topic registry', () => {
  it('has unique, versioned names and sane settings', () => {
    const names = ALL_TOPICS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const t of ALL_TOPICS) {
      expect(t.name).toMatch(/^[a-z]+(\.[a-z-]+)+\.v\d+$/);
      expect(t.partitions).toBeGreaterThan(0);
      expect(Object.keys(t.types).length).toBeGreaterThan(0);
      expect(topicByName(t.name)).toBe(t);
    }
    expect(Topics.templateCatalog.cleanupPolicy).toBe('compact');
  });
});

describe('memoized rule lookups', () => {
  it('still sees rules of a class declared after earlier validations', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { IsInt, validateSync } = require('class-validator') as typeof import('class-validator');
    encodeEvent(Topics.citizenConsent, consent, { source: '/x' });
    class Late {
      count: unknown;
    }
    IsInt()(Late.prototype, 'count');
    const late = Object.assign(new Late(), { count: 'many' });
    expect(validateSync(late).map((e) => e.property)).toEqual(['count']);
  });

  it('sees a rule added to a class after it was validated (the memo is dropped)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { IsInt, IsString, validateSync } = require('class-validator') as typeof import('class-validator');
    class Growing {
      name: unknown;
      size: unknown;
    }
    IsString()(Growing.prototype, 'name');
    const value = Object.assign(new Growing(), { name: 'ok', size: 'big' });
    expect(validateSync(value)).toEqual([]);
    IsInt()(Growing.prototype, 'size');
    expect(validateSync(value).map((e) => e.property)).toEqual(['size']);
  });
});
