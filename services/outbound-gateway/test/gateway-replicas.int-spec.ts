/** @jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs */
import { maxInWindow } from '@wa/cloud-api-sandbox';
import { startTestService, type TestService } from '@wa/testing';
import { AppModule } from '../src/app.module';
import { GraphClient } from '../src/cloud-api/graph-client';
import { Dispatcher } from '../src/dispatch/dispatcher';
import { outboundGatewayService } from '../src/service';
import { AUTH_SECRET, IMMIGRATION, TENANTS_FILE, plainTemplate, startGatewayHarness, type GatewayHarness } from './support/harness';

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
    await h.approve(plainTemplate(IMMIGRATION.tenantId, 'visa_ready', 'en', 'Your visa is ready for collection.'));
  });
  afterAll(async () => {
    await second?.close();
    await h?.close();
  });

  /** When each replica called Meta for the number: both run in this process, so on one clock. */
  function recordCalls(app: TestService['app'], phoneNumberId: string, into: number[]): void {
    const graph = app.get(GraphClient);
    const send = graph.sendMessage.bind(graph);
    graph.sendMessage = (target, payload) => {
      if (target.phoneNumberId === phoneNumberId) into.push(Date.now());
      return send(target, payload);
    };
  }

  it('shares the number’s 80 msg/s budget and sends each request once', async () => {
    const number = IMMIGRATION.slowPhoneNumberId; // 80 msg/s tier
    const calls: number[] = [];
    recordCalls(h.gateway.app, number, calls);
    recordCalls(second.app, number, calls);
    const sent = await h.sendBulk(320, { tenantId: IMMIGRATION.tenantId, phoneNumberId: number }, { name: 'visa_ready', language: 'en' });
    for (const r of sent) expect(await h.resultOf(r.requestId, 90000)).toMatchObject({ outcome: 'accepted' });

    const accepted = h.simulator.sent.filter((m) => m.phoneNumberId === number);
    expect(accepted).toHaveLength(320);
    expect(new Set(accepted.map((m) => m.bizOpaqueCallbackData)).size).toBe(320);
    // Both replicas sent, and together they kept to the shared budget.
    const first = h.gateway.app.get(Dispatcher).calls;
    const other = second.app.get(Dispatcher).calls;
    expect(first).toBeGreaterThan(0);
    expect(other).toBeGreaterThan(0);
    expect(calls).toHaveLength(first + other);
    // On the callers' clock. The shared budget is 0.97 x 80 - 2 = 75.6/s, granted per 100 ms slot;
    // each replica also caps its own trailing second at the budget. Across replicas the bound is the
    // budget plus one slot's tokens (a slot fired late, up to its 25 ms tolerance, next to ten
    // on-time ones): 75.6 + 7.6 < 84 (docs/gateway.md). Replicas that did not share it would reach ~150.
    expect(maxInWindow(calls, 1000)).toBeLessThan(84);
    // Meta's side: the simulator counts a strict sliding second at 80 and stamps arrivals on this
    // same event loop, so a stall bunches calls made on time (CI on two loaded cores saw 1, then 4
    // refusals). Any 130429 was retried and cost one extra call, nothing else. Replicas that did
    // not share the budget were refused 163 times (checked by keying the slot per replica), so 5 %
    // of the sends still tells the two apart without failing on a slow host.
    const refused = h.simulator.stats.rejected['130429'] ?? 0;
    expect(refused).toBeLessThanOrEqual(320 * 0.05);
    expect(first + other).toBe(320 + refused);
    expect(Object.keys(h.simulator.stats.rejected).filter((code) => code !== '130429')).toEqual([]);
  }, 150000);
});
