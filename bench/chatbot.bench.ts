// npm run bench:chatbot
//
// Citizens talking to the chatbot through the whole platform on this machine: signed webhooks
// (a citizen's text, as Meta posts it) to the ingress receiver → Kafka → the normalizer → the
// chatbot's turn → the outbound gateway → the Cloud API sandbox, which accepts the reply and then
// posts its status webhooks (sent, delivered, read; one per POST, as Meta does) back to the
// ingress, so every reply costs the platform three more webhooks, as in production. Each process
// runs as deployed (tests/e2e/support/stack.ts: main.ts per service, the ingress's receiver and
// normalizer apart, own topic prefix and database, free ports).
//
// Citizens are distinct numbers of the roads agency. Each writes twice, STAGGER_S apart: "hola"
// (a new session: the sample flow's welcome and menu) and then a menu choice ("1"), so each reply
// stays within the gateway's per-citizen burst and half the turns resume a waiting session.
// The offered rate ramps through steps (default 50, 100, 200, 300, 500 msg/s); for each step:
// the rate reached, latency from the ingress's 200 to the sandbox accepting the first reply of
// that turn (p50/p99, from the sandbox's own acceptance times), the ingress's 200 itself (the
// baseline, see below), unanswered turns, and CPU per turn of each process (from /proc). A step
// that saturates the platform (p99 over four times the 250 ms limit, or turns left unanswered)
// ends the ramp, so a run stays within a few minutes.
//
// Baseline: the ingress's acceptance of the same webhooks (the client's time to its 200). It is
// the only synchronous hop, the one Meta waits on, and its cost hardly changes with what the rest
// of the platform does; the ratio reply/acceptance says how much the asynchronous path (Kafka,
// normalizer, chatbot, gateway, Graph API call) adds on top of accepting the message at all.
//
// The roads number runs at the 1,000 msg/s tier here (a copy of the sandbox tenants file with that
// one change): at its sample 80 msg/s tier the gateway would rightly pace replies at 80/s.
//
// CPU per turn is the step's CPU over the turns the ingress accepted (answered or not), next to the
// share of it that the process's idle rate (measured for a few seconds before the ramp) explains.
//
// Knobs (env): BENCH_RATES (msg/s, comma-separated), BENCH_STEP_SECONDS (default 15), BENCH_DRAIN_SECONDS
// (how long a step waits for its last replies, default 20),
// BENCH_CONNECTIONS (to the ingress, default 64), BENCH_CHATBOT_NODE_ARGS (e.g.
// "--cpu-prof --cpu-prof-dir=.local/prof"; the same for BENCH_<SERVICE>_NODE_ARGS with the
// service's name upper-cased, dashes as underscores, e.g. BENCH_OUTBOUND_GATEWAY_NODE_ARGS).
import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { driveStack, startStack, type RunningStack } from '../tests/e2e/support/stack';
import { citizenText, kafkaBrokerPid, ownCpuSeconds, quantile, ROADS_NUMBER, WebhookPoster } from './support/citizens';
import { cpuSeconds, fmt, postgresCpuSeconds, ROOT } from './support/ingress-load';

const RATES = (process.env.BENCH_RATES ?? '50,100,200,300,500').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const STAGGER_S = 3;
const P99_LIMIT_MS = 250;
const TURNS = ['hola', '1'] as const;
/** How long a step waits, after its last webhook, for its replies before counting the rest as unanswered. */
const DRAIN_MS = Number(process.env.BENCH_DRAIN_SECONDS ?? 20) * 1000;
/** A step whose p99 is this many times the limit ends the ramp: higher rates only queue more. */
const GIVE_UP_FACTOR = 4;
/** How long the idle CPU of each process is measured before the ramp. */
const IDLE_SECONDS = 5;

const PROCESSES = ['webhook-ingress', 'webhook-ingress-normalizer', 'chatbot', 'outbound-gateway', 'cloud-api-sandbox'] as const;
const LABEL: Record<string, string> = {
  'webhook-ingress': 'ingress receiver',
  'webhook-ingress-normalizer': 'normalizer',
  chatbot: 'chatbot',
  'outbound-gateway': 'gateway',
  'cloud-api-sandbox': 'sandbox (Meta)',
  kafka: 'Kafka broker',
  postgres: 'PostgreSQL (all)',
  bench: 'load generator',
};

interface Turn {
  citizen: string;
  index: number;
  due: number;
  ack?: { status: number; at: number };
  sentAt?: number;
}

interface StepResult {
  offered: number;
  reached: number;
  accepted: number;
  turns: number;
  answered: number;
  p50: number;
  p99: number;
  max: number;
  ackP50: number;
  ackP99: number;
  cpuMsPerTurn: Record<string, number>;
  /** The share of the step's CPU that the process would have spent idle over the step's length. */
  idleShare: Record<string, number>;
}

/** A copy of the sandbox tenants file with the roads number at the 1,000 msg/s tier. */
function benchTenantsFile(): string {
  const doc = parse(readFileSync(join(ROOT, 'config', 'tenants.sandbox.yaml'), 'utf8')) as {
    tenants: { id: string; phoneNumbers: { id: string; throughputPerSecond: number }[] }[];
  };
  for (const phone of doc.tenants.find((t) => t.id === 'roads-agency')!.phoneNumbers)
    if (phone.id === ROADS_NUMBER.phoneNumberId) phone.throughputPerSecond = 1000;
  const dir = join(ROOT, '.local', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'tenants.chatbot-bench.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

function cpuSnapshot(running: RunningStack, broker: number | undefined): Record<string, number> {
  const snap: Record<string, number> = {};
  for (const name of PROCESSES) snap[name] = cpuSeconds(running.pid[name]) ?? 0;
  snap.kafka = cpuSeconds(broker) ?? 0;
  snap.postgres = postgresCpuSeconds();
  snap.bench = ownCpuSeconds();
  return snap;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const nodeArgs = Object.fromEntries(
    [...PROCESSES].map((name) => [
      name,
      (process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}_NODE_ARGS`] ?? '').split(' ').filter(Boolean),
    ]),
  );
  const began = Date.now();
  console.log(`\nbench:chatbot  starting the platform (ingress receiver + normalizer, chatbot, gateway, sandbox) ...`);
  const running = await startStack(
    'bench-chatbot',
    ['webhook-ingress', 'outbound-gateway', 'chatbot'],
    {},
    {
      tenantsFile: benchTenantsFile(),
      // The bench's citizens write to the ingress directly (the sandbox does not see them write):
      // the sandbox delivers free-form replies without checking the customer-service window.
      sandboxEnv: { SANDBOX_ENFORCE_WINDOW: 'false' },
      nodeArgs,
      workers: true,
      logLevel: 'warn',
    },
  );
  const stack = driveStack(running.facts);

  const poster = new WebhookPoster(stack.url['webhook-ingress'], `/webhooks/whatsapp/${ROADS_NUMBER.appId}`, CONNECTIONS);
  const broker = kafkaBrokerPid();
  // A run's own numbers: 57 301 + 7 digits, from a random base (several runs never share citizens).
  let nextCitizen = randomInt(0, 5_000_000);
  let wamidSeq = 0;
  const runTag = Date.now().toString(36);

  /** Sends one step's turns at `rate` msg/s; resolves with the turns once all are answered by the ingress. */
  async function drive(rate: number, seconds: number): Promise<{ turns: Turn[]; start: number; end: number }> {
    const citizens = Math.max(1, Math.round((rate * seconds) / TURNS.length));
    const interval = (1000 * TURNS.length) / rate;
    const start = Date.now() + 50;
    const turns: Turn[] = [];
    for (let c = 0; c < citizens; c++) {
      const citizen = `57301${String(nextCitizen++ % 10_000_000).padStart(7, '0')}`;
      TURNS.forEach((_, index) => turns.push({ citizen, index, due: start + c * interval + index * STAGGER_S * 1000 }));
    }
    turns.sort((a, b) => a.due - b.due);
    const pending: Promise<void>[] = [];
    let i = 0;
    while (i < turns.length) {
      const now = Date.now();
      while (i < turns.length && turns[i].due <= now) {
        const turn = turns[i++];
        const { body, signature } = citizenText(ROADS_NUMBER, turn.citizen, `wamid.BENCH.${runTag}.${wamidSeq++}`, TURNS[turn.index], now);
        turn.sentAt = Date.now();
        pending.push(
          poster.post(body, signature).then((ack) => {
            turn.ack = ack;
          }),
        );
      }
      if (i < turns.length) await sleep(Math.max(1, Math.min(10, turns[i].due - Date.now())));
    }
    await Promise.all(pending);
    return { turns, start, end: Date.now() };
  }

  type Reply = { waId: string; acceptedAt: number };
  /** The replies the sandbox accepted since `since`, per citizen, in order. */
  async function repliesSince(since: number): Promise<Map<string, number[]>> {
    const { messages } = await getJson<{ messages: Reply[] }>(
      `${stack.sandboxUrl}/sandbox/messages?phoneNumberId=${ROADS_NUMBER.phoneNumberId}&compact=1&since=${new Date(since).toISOString()}`,
    );
    const byCitizen = new Map<string, number[]>();
    for (const m of messages) {
      const list = byCitizen.get(m.waId) ?? [];
      list.push(m.acceptedAt);
      byCitizen.set(m.waId, list);
    }
    for (const list of byCitizen.values()) list.sort((a, b) => a - b);
    return byCitizen;
  }
  const acceptedCount = async () => (await getJson<{ accepted: number }>(`${stack.sandboxUrl}/sandbox/messages/count`)).accepted;

  /**
   * Replies per turn kind: how many messages the flow answers "hola" with, so that the first
   * reply of the second turn is told apart from the rest of the first's.
   */
  let repliesPerTurn: number[] = [];

  /** Waits until the sandbox has accepted `expected` more replies, for DRAIN_MS at most. */
  async function drained(before: number, expected: number): Promise<void> {
    const deadline = Date.now() + DRAIN_MS;
    while (Date.now() < deadline && (await acceptedCount()) - before < expected) await sleep(200);
  }

  try {
    const ready = ((Date.now() - began) / 1000).toFixed(0);
    console.log(
      `platform ready in ${ready} s; ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} (the machine is shared)`,
    );
    console.log(`logs: ${stack.logDir}`);

    // How many messages the flow answers each turn with (so that the first reply of the second
    // turn is told apart from the rest of the first's): a few citizens, one turn at a time, each
    // turn's replies counted once no more arrive for a second.
    const counts: number[][] = TURNS.map(() => []);
    for (let c = 0; c < 3; c++) {
      const citizen = `57302${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
      for (const [index, text] of TURNS.entries()) {
        const since = Date.now();
        const { body, signature } = citizenText(ROADS_NUMBER, citizen, `wamid.BENCH.${runTag}.${wamidSeq++}`, text, since);
        if ((await poster.post(body, signature)).status !== 200) throw new Error(`the ingress refused a webhook; logs in ${stack.logDir}`);
        let got = 0;
        let stableSince = Date.now();
        const deadline = Date.now() + 60000;
        while (Date.now() < deadline && (got === 0 || Date.now() - stableSince < 1000)) {
          await sleep(100);
          const n = (await repliesSince(since)).get(citizen)?.length ?? 0;
          if (n !== got) [got, stableSince] = [n, Date.now()];
        }
        if (!got) throw new Error(`no reply to "${text}" within 60 s; logs in ${stack.logDir}`);
        counts[index].push(got);
      }
    }
    repliesPerTurn = counts.map((values) => Math.max(...values));
    // Warm-up at a low rate: JIT, connections, consumer groups.
    {
      const before = await acceptedCount();
      const { turns } = await drive(20, 5);
      await drained(before, (turns.length / TURNS.length) * repliesPerTurn.reduce((a, b) => a + b, 0));
      await sleep(1500);
    }
    console.log(
      `warm-up done; replies per turn: ${TURNS.map((t, k) => `"${t}" → ${repliesPerTurn[k]} message(s)`).join(', ')}; status webhooks: sent, delivered, read per reply\n`,
    );

    // What each process spends with no citizen writing (consumer polls, outbox relays, sweepers,
    // other engineers' work on the shared broker and database), per second. It is not taken off
    // the steps' CPU (under load, polls find work instead of idling, so subtracting it undercounts),
    // but each process's share of it is printed: a high share means that step's CPU per turn is
    // mostly the process idling through a slow drain, not the turns.
    const idleFrom = cpuSnapshot(running, broker);
    const idleStart = Date.now();
    await sleep(IDLE_SECONDS * 1000);
    const idleTo = cpuSnapshot(running, broker);
    const idleSeconds = (Date.now() - idleStart) / 1000;
    const idlePerSecond = Object.fromEntries(Object.keys(idleTo).map((k) => [k, (idleTo[k] - idleFrom[k]) / idleSeconds]));
    console.log(
      `idle CPU (ms per second, over ${IDLE_SECONDS} s): ${Object.keys(idlePerSecond)
        .map((k) => `${LABEL[k]} ${fmt(idlePerSecond[k] * 1000)}`)
        .join(', ')}\n`,
    );

    const results: StepResult[] = [];
    for (const rate of RATES) {
      const stepStart = Date.now();
      const before = await acceptedCount();
      const cpuBefore = cpuSnapshot(running, broker);
      const { turns, start, end } = await drive(rate, STEP_SECONDS);
      const expected = (turns.length / TURNS.length) * repliesPerTurn.reduce((a, b) => a + b, 0);
      await drained(before, expected);
      // The last replies' status webhooks (read comes a second after the reply) belong to the step.
      await sleep(1500);
      const cpuAfter = cpuSnapshot(running, broker);
      const stepSeconds = (Date.now() - stepStart) / 1000;
      const idleShare = Object.fromEntries(
        Object.keys(cpuAfter).map((k) => [k, Math.min(1, (idlePerSecond[k] * stepSeconds) / Math.max(1e-9, cpuAfter[k] - cpuBefore[k]))]),
      );
      const replies = await repliesSince(start - 1000);
      const latencies: number[] = [];
      const acks: number[] = [];
      let accepted = 0;
      for (const t of turns) {
        if (t.ack?.status === 200) accepted++;
        if (t.ack) acks.push(t.ack.at - t.sentAt!);
        const times = replies.get(t.citizen) ?? [];
        const first = repliesPerTurn.slice(0, t.index).reduce((a, b) => a + b, 0);
        if (t.ack?.status === 200 && times.length > first) latencies.push(Math.max(0, times[first] - t.ack.at));
      }
      latencies.sort((a, b) => a - b);
      acks.sort((a, b) => a - b);
      const cpuMsPerTurn = Object.fromEntries(
        Object.keys(cpuAfter).map((k) => [k, ((cpuAfter[k] - cpuBefore[k]) / Math.max(1, accepted)) * 1000]),
      );
      const result: StepResult = {
        offered: rate,
        reached: turns.length / ((end - start) / 1000),
        accepted,
        turns: turns.length,
        answered: latencies.length,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies[latencies.length - 1] ?? NaN,
        ackP50: quantile(acks, 0.5),
        ackP99: quantile(acks, 0.99),
        cpuMsPerTurn,
        idleShare,
      };
      results.push(result);
      console.log(
        `step ${fmt(rate)} msg/s: sent at ${fmt(result.reached)} msg/s, ${result.answered}/${result.turns} answered, ` +
          `reply p50 ${fmt(result.p50)} ms p99 ${fmt(result.p99)} ms; ingress 200 p50 ${fmt(result.ackP50, 1)} ms p99 ${fmt(result.ackP99, 1)} ms; ` +
          `CPU ${fmt(
            PROCESSES.reduce((s, p) => s + cpuMsPerTurn[p], 0),
            2,
          )} ms/turn in the platform's processes; load average ${loadavg()[0].toFixed(1)}`,
      );
      if (!(result.p99 <= GIVE_UP_FACTOR * P99_LIMIT_MS) || result.answered < result.turns) {
        const left = RATES.filter((r) => r > rate);
        if (left.length)
          console.log(`the platform is saturated at ${fmt(rate)} msg/s: the ramp ends here (${left.join(', ')} msg/s not run)`);
        break;
      }
    }

    console.log(
      `\nrate offered  reached  answered        reply p50  p99     max      ingress 200 p50  p99     ratio p50  p99   (reply / ingress 200)`,
    );
    for (const r of results) {
      console.log(
        `${fmt(r.offered).padStart(7)} /s   ${fmt(r.reached).padStart(5)}/s  ${`${r.answered}/${r.turns}`.padEnd(14)}  ${fmt(r.p50).padStart(6)} ms  ${fmt(r.p99).padStart(5)}  ${fmt(r.max).padStart(6)}   ${fmt(r.ackP50, 1).padStart(12)} ms  ${fmt(r.ackP99, 1).padStart(5)}   ${fmt(r.p50 / r.ackP50, 1).padStart(8)}  ${fmt(r.p99 / r.ackP99, 1).padStart(5)}`,
      );
    }
    const keys = [...PROCESSES, 'kafka', 'postgres', 'bench'];
    console.log(
      `\nCPU per turn (ms; one turn = one citizen message, its reply and the reply's three status webhooks; in brackets the share the process's idle rate explains)`,
    );
    console.log(`${'process'.padEnd(20)}${results.map((r) => `${fmt(r.offered)}/s`.padStart(15)).join('')}`);
    for (const k of keys)
      console.log(
        `${LABEL[k].padEnd(20)}${results.map((r) => `${fmt(r.cpuMsPerTurn[k], 2)} (${fmt(r.idleShare[k] * 100)}%)`.padStart(15)).join('')}`,
      );
    console.log(
      `${'platform (5 procs)'.padEnd(20)}${results
        .map((r) =>
          fmt(
            PROCESSES.reduce((s, p) => s + r.cpuMsPerTurn[p], 0),
            2,
          ).padStart(15),
        )
        .join('')}`,
    );
    console.log("(PostgreSQL counts every postgres process on the machine, other engineers' work included; Kafka is the shared broker.)");

    const ok = results.filter((r) => r.answered === r.turns && r.p99 <= P99_LIMIT_MS && r.reached >= 0.9 * r.offered);
    const best = ok.length ? Math.max(...ok.map((r) => r.offered)) : undefined;
    console.log(
      `\nhighest offered rate with every turn answered and p99 <= ${P99_LIMIT_MS} ms: ${best === undefined ? 'none of the steps' : `${fmt(best)} msg/s`}`,
    );
    const at200 = results.find((r) => r.offered === 200);
    if (at200)
      console.log(
        `floor (p99 <= 250 ms at 200 msg/s): ${at200.answered === at200.turns && at200.p99 <= 250 ? 'met' : 'NOT met'} (p99 ${fmt(at200.p99)} ms)`,
      );
    const at500 = results.find((r) => r.offered === 500);
    if (at500)
      console.log(
        `aim (p99 <= 100 ms at 500 msg/s): ${at500.answered === at500.turns && at500.p99 <= 100 ? 'met' : 'NOT met'} (p99 ${fmt(at500.p99)} ms)`,
      );
    console.log(`whole run ${fmt((Date.now() - began) / 1000)} s\n`);
  } finally {
    poster.close();
    await running.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
