/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { maxInWindow } from '@wa/cloud-api-sandbox';
import { startTestService, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { Dispatcher } from '../src/dispatch/dispatcher';
import { outboundGatewayService } from '../src/service';
import { AUTH_SECRET, IMMIGRATION, TENANTS_FILE, citizen, startGatewayHarness, type GatewayHarness } from './support/harness';

/** Two gateway replicas on one database and consumer group: one budget per number, one send per request. */
describe('outbound gateway: several replicas', () => {
  let h: GatewayHarness;
  let second: TestService;

  beforeAll(async () => {
    h = await startGatewayHarness('gw-replicas');
    second = await startTestService(outboundGatewayService, (e) => AppModule.forRoot(e), h.tk, {
      db: h.gateway.db,
      env: { TENANTS_FILE, GRAPH_BASE_URL: h.sandboxUrl, AUTH_MODE: 'sandbox', AUTH_SANDBOX_SECRET: AUTH_SECRET, IDLE_POLL_MS: '50' },
    });
    await h.approve({
      tenantId: IMMIGRATION.tenantId,
      name: 'visa_ready',
      language: 'en',
      parameters: [],
      components: [{ type: 'BODY', text: 'Your visa is ready for collection.' }],
    });
  });
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  it('shares the number’s 80 msg/s budget and sends each request once', async () => {
    const number = IMMIGRATION.slowPhoneNumberId; // 80 msg/s tier
    const requests = [];
    for (let i = 0; i < 320; i++) {
      requests.push(
        h.send({
          tenantId: IMMIGRATION.tenantId,
          phoneNumberId: number,
          kind: 'template',
          priority: 'bulk',
          to: { phone: citizen().phone },
          template: { name: 'visa_ready', language: 'en' },
        }),
      );
    }
    const sent = await Promise.all(requests);
    for (const r of sent) expect(await h.resultOf(r.requestId, 90000)).toMatchObject({ outcome: 'accepted' });

    const accepted = h.simulator.sent.filter((m) => m.phoneNumberId === number);
    expect(accepted).toHaveLength(320);
    expect(new Set(accepted.map((m) => m.bizOpaqueCallbackData)).size).toBe(320);
    // Both replicas sent, and together they stayed within the tier in every sliding second.
    const first = h.gateway.app.get(Dispatcher).calls;
    const other = second.app.get(Dispatcher).calls;
    expect(first).toBeGreaterThan(0);
    expect(other).toBeGreaterThan(0);
    expect({ calls: first + other, rejected: h.simulator.stats.rejected }).toEqual({ calls: 320, rejected: {} }); // no 130429 either
    expect(maxInWindow(h.simulator.arrivals.get(number) ?? [], 1000)).toBeLessThanOrEqual(80);
    expect(h.simulator.stats.rejected['130429'] ?? 0).toBe(0);
  }, 150000);
});
