/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { ROADS, citizen, namedTemplate, startGatewayHarness, type GatewayHarness } from './support/harness';

describe('outbound gateway: sends through the sandbox, inside WhatsApp rules', () => {
  let h: GatewayHarness;

  beforeAll(async () => {
    h = await startGatewayHarness('gw-rules');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sends a reply inside the window and publishes an accepted result with the wamid', async () => {
    const c = citizen();
    await h.openWindow(ROADS.tenantId, ROADS.phoneNumberId, c.waId);
    const request = await h.send({ kind: 'text', to: { waId: c.waId }, content: { body: 'Su trámite está listo', preview_url: false } });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'accepted', attempts: 1, tenantId: ROADS.tenantId, phoneNumberId: ROADS.phoneNumberId });
    const [sent] = h.sentTo(c.waId);
    expect(result.wamid).toBe(sent.wamid);
    expect(sent.payload).toMatchObject({
      to: `+${c.waId}`,
      type: 'text',
      text: { body: 'Su trámite está listo' },
      biz_opaque_callback_data: request.requestId,
    });
  });

  it('refuses a free-form message when the window is closed, without calling Meta', async () => {
    const c = citizen();
    const request = await h.send({ kind: 'text', to: { phone: c.phone }, content: { body: 'hola' } });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'window-closed', attempts: 0 });
    expect(result.detail).toMatch(/24 h/);
    expect(h.sentTo(c.waId)).toHaveLength(0);
  });

  it('fails wrong template parameters with the reason, without calling Meta', async () => {
    await h.approve(namedTemplate(ROADS.tenantId, 'licence_expiry'));
    const c = citizen();
    const request = await h.send({
      kind: 'template',
      priority: 'notification',
      to: { phone: c.phone },
      template: { name: 'licence_expiry', language: 'es', parameters: { first_name: 'Ana', due_day: '3 de marzo' } },
    });
    const result = await h.resultOf(request.requestId);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'template-params' });
    expect(result.detail).toMatch(/due_date/);
    expect(result.detail).toMatch(/due_day/);
    expect(h.sentTo(c.waId)).toHaveLength(0);
  });
});
