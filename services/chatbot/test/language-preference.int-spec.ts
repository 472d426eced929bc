/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { Client } from 'pg';
import { Topics, type CitizenPreferenceV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, waitFor, type Collector, type TestKafka, type TestService } from '@wa/testing';
import { api, citizen, Citizen, outbound, ROADS, shown, startChatbot, token } from './support';

const TIMEOUT = 60000;

/** A flow that starts with the language menu, then thanks the citizen in the chosen language. */
const LANGUAGE_FLOW = `
flow: main
languages: [es, en]
start: language
nodes:
  language:
    type: language
    text: { es: 'Elija su idioma:', en: 'Choose your language:' }
    goto: thanks
  thanks:
    type: end
    text: { es: Gracias., en: Thank you. }
`;

describe('chatbot: the language choice is published for the scheduler (real Kafka + Postgres)', () => {
  let tk: TestKafka;
  let service: TestService;
  let producer: EventProducer;
  let pg: Client;
  let requests: Collector;
  let preferences: Collector;

  beforeAll(async () => {
    tk = await createTestKafka('chatbot-lang');
    ({ service } = await startChatbot(tk));
    producer = new EventProducer(tk.kafka, tk.options, '/tests/chatbot');
    await producer.connect();
    pg = new Client({ connectionString: service.db.adminUrl });
    await pg.connect();
    requests = await tk.collect(Topics.outboundRequest.name);
    preferences = await tk.collect(Topics.citizenPreference.name);
    const editor = api(service.url, await token(ROADS.tenantId, ['flow-editor']));
    expect((await editor.put('/v1/flows/main/draft', LANGUAGE_FLOW)).status).toBe(200);
    expect((await editor.post('/v1/flows/main/publish')).status).toBe(200);
  });

  afterAll(async () => {
    await pg?.end();
    await producer?.disconnect();
    await service?.close();
    await service?.db.drop();
    await tk?.cleanup();
  });

  it('choosing English stores it on the profile and publishes citizen.preference.v1 keyed tenant:citizenKey', async () => {
    const ana = new Citizen(producer, citizen('57'));
    await ana.text('hola');
    const [menu] = await waitFor(() => (outbound(requests, ana.waId).length ? outbound(requests, ana.waId) : undefined), {
      what: 'the language menu',
      timeoutMs: TIMEOUT,
    });
    expect(shown(menu)).toMatch(/^Elija su idioma:/);
    await ana.reply('lang:en', 'English');
    const thanks = await waitFor(() => outbound(requests, ana.waId)[1], { what: 'the answer', timeoutMs: TIMEOUT });
    expect(shown(thanks)).toBe('Thank you.');

    const record = await waitFor(() => preferences.records.find((r) => r.key === `${ROADS.tenantId}:${ana.waId}`), {
      what: 'the preference record',
      timeoutMs: TIMEOUT,
    });
    const preference = JSON.parse(record.value!) as CitizenPreferenceV1;
    expect(preference).toMatchObject({
      tenantId: ROADS.tenantId,
      citizenKey: ana.waId,
      contact: { waId: ana.waId },
      language: 'en',
      source: 'chatbot_menu',
    });
    const profile = await pg.query('SELECT language, language_chosen_at FROM chatbot.citizen_profile WHERE citizen_key = $1', [ana.waId]);
    expect(profile.rows[0].language).toBe('en');
    expect(preference.chosenAt).toBe((profile.rows[0].language_chosen_at as Date).toISOString());
  });
});
