// Handoff assignment latency, end to end on the real broker and Postgres with the router booted as
// main.ts boots it: 100 agents (10 departments × 10, capacity 10 each) are online with an event
// stream open each; N handoff requests (default 1,000, all to be open at once) are published on
// handoff.request.v1 at a steady rate; latency = from the publish to the assigned agent's stream
// receiving `conversation.assigned`. Baseline in the same run: a bare event-log round trip (an
// event appended in a transaction → LISTEN/NOTIFY → the SSE stream), so the ratio says what the
// queue and assignment add to the stream itself.
// Usage: npm run bench:handoff [-- --conversations 1000 --rate 100]
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DataSource } from 'typeorm';
import { mintSandboxToken } from '@wa/auth';
import { Topics, type HandoffRequestV1 } from '@wa/contracts';
import { EventProducer } from '@wa/kafka';
import { createTestKafka, startTestService } from '@wa/testing';
import { AppModule } from '../services/handoff-router/src/app.module';
import { handoffRouterService } from '../services/handoff-router/src/service';
import { ConsoleEventRepository } from '../services/handoff-router/src/store/console-events.repository';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const CONVERSATIONS = arg('conversations', 1000);
const RATE = arg('rate', 100);
const AGENTS = 100;
const DEPARTMENTS = 10;
const SECRET = 'handoff-bench-signing-secret-0123456789abcdef';
const TENANT = 'roads-agency';

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

type Listener = (type: string, data: { conversationId?: string; data?: Record<string, unknown> }) => void;

function openStream(url: string, bearer: string, onEvent: Listener): Promise<AbortController> {
  const controller = new AbortController();
  return new Promise((resolve, reject) => {
    void fetch(`${url}/v1/stream`, { headers: { authorization: `Bearer ${bearer}` }, signal: controller.signal })
      .then(async (response) => {
        if (!response.ok) throw new Error(`stream ${response.status}`);
        resolve(controller);
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            let type = '';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('data: ')) data = line.slice(6);
            }
            if (type) onEvent(type, JSON.parse(data));
          }
        }
      })
      .catch((error) => (controller.signal.aborted ? undefined : reject(error)));
  });
}

async function main() {
  const tk = await createTestKafka('bench-handoff');
  const service = await startTestService(handoffRouterService, (e) => AppModule.forRoot(e), tk, {
    env: {
      AUTH_SANDBOX_SECRET: SECRET,
      TENANTS_FILE: 'config/tenants.sandbox.yaml',
      HANDOFF_SWEEP_ENABLED: 'false',
      HANDOFF_SAMPLE_FILE: '/dev/null',
      LOG_LEVEL: 'error',
    },
  });
  const streams: AbortController[] = [];
  try {
    const admin = await mintSandboxToken({ key: Buffer.from(SECRET), sub: 'bench-admin', tenant: TENANT, roles: ['admin'] });
    const put = (path: string, body: unknown) =>
      fetch(`${service.url}${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (let d = 0; d < DEPARTMENTS; d++) await put(`/v1/departments/dept-${d}`, { names: { es: `Departamento ${d}` }, slaSeconds: 3600 });
    const received = new Map<string, number>();
    const baseline = new Map<string, number>();
    const capacity = Math.ceil(CONVERSATIONS / AGENTS) + 1;
    for (let a = 0; a < AGENTS; a++) {
      const id = `agent-${a}`;
      await put(`/v1/agents/${id}`, { name: id, departments: [`dept-${a % DEPARTMENTS}`], languages: ['es', 'en'], capacity });
      const bearer = await mintSandboxToken({ key: Buffer.from(SECRET), sub: id, tenant: TENANT, roles: ['agent'] });
      streams.push(
        await openStream(service.url, bearer, (type, e) => {
          if (type === 'conversation.assigned' && e.conversationId && !received.has(e.conversationId))
            received.set(e.conversationId, now());
          if (type === 'bench.ping' && typeof e.data?.id === 'string' && !baseline.has(e.data.id)) baseline.set(e.data.id, now());
        }),
      );
      await fetch(`${service.url}/v1/agents/me/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: '{"presence":"online"}',
      });
    }

    // Baseline: an event appended to the log reaches a stream (agent-0's own event).
    const dataSource = service.app.get(DataSource);
    const events = service.app.get(ConsoleEventRepository);
    const baseSent = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const id = randomUUID();
      baseSent.set(id, now());
      await dataSource.transaction((m) => events.append(m, TENANT, [{ type: 'bench.ping', agentId: 'agent-0', data: { id } }]));
      await sleep(5);
    }
    const deadline = Date.now() + 10_000;
    while (baseline.size < baseSent.size && Date.now() < deadline) await sleep(20);
    const base = [...baseSent].filter(([id]) => baseline.has(id)).map(([id, t]) => baseline.get(id)! - t);

    const producer = new EventProducer(tk.kafka, tk.options, '/bench/handoff');
    await producer.connect();
    // Warm-up: the consumer group has joined and the first assignment is through before measuring.
    const warm = randomUUID();
    const warmAt = new Date().toISOString();
    await producer.publish(Topics.handoffRequest, {
      tenantId: TENANT,
      conversationId: warm,
      citizenKey: '573009999999',
      contact: { waId: '573009999999' },
      department: 'dept-0',
      language: 'es',
      reason: 'asked_for_agent',
      transcript: [{ author: 'citizen', text: 'agente', at: warmAt }],
      requestedAt: warmAt,
    });
    const warmDeadline = Date.now() + 60_000;
    while (!received.has(warm) && Date.now() < warmDeadline) await sleep(50);
    if (!received.has(warm)) throw new Error('the warm-up conversation was never assigned');
    const sent = new Map<string, number>();
    const started = now();
    for (let i = 0; i < CONVERSATIONS; i++) {
      const waId = `57300${String(i).padStart(7, '0')}`;
      const at = new Date().toISOString();
      const request: HandoffRequestV1 = {
        tenantId: TENANT,
        conversationId: randomUUID(),
        citizenKey: waId,
        contact: { waId },
        department: `dept-${i % DEPARTMENTS}`,
        language: i % 2 ? 'es' : 'en',
        reason: 'asked_for_agent',
        transcript: [{ author: 'citizen', text: 'agente', at }],
        requestedAt: at,
      };
      sent.set(request.conversationId, now());
      void producer.publish(Topics.handoffRequest, request);
      const due = started + ((i + 1) * 1000) / RATE;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
    }
    const end = Date.now() + 60_000;
    while (received.size < sent.size && Date.now() < end) await sleep(50);
    await producer.disconnect();
    const latencies = [...sent].filter(([id]) => received.has(id)).map(([id, t]) => received.get(id)! - t);
    const p50 = pct(latencies, 50);
    const p99 = pct(latencies, 99);
    const b50 = pct(base, 50);
    const b99 = pct(base, 99);
    process.stdout.write(
      [
        `handoff assignment latency (${CONVERSATIONS} conversations at ${RATE}/s, ${AGENTS} agents with open streams, load ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
        `  assigned and received: ${latencies.length}/${CONVERSATIONS}`,
        `  request → agent's stream: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
        `  baseline (event log → stream, ${base.length} events): p50 ${b50.toFixed(1)} ms, p99 ${b99.toFixed(1)} ms`,
        `  ratio to baseline: p50 ${(p50 / b50).toFixed(1)}×, p99 ${(p99 / b99).toFixed(1)}×`,
        `  floor p99 ≤ 100 ms: ${p99 <= 100 ? 'met' : 'NOT met'}; aim 50 ms: ${p99 <= 50 ? 'met' : 'not met'}`,
        '',
      ].join('\n'),
    );
  } finally {
    streams.forEach((s) => s.abort());
    await service.close();
    await tk.cleanup();
    await service.db.drop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
