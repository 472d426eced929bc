// npm run bench:ingress-ab
//
// Two receiver-only webhook ingresses (INGRESS_CONSUMERS=false) under the same load, in
// alternating rounds, to tell a change apart from the host's noise: the CPU one process spends per
// request moves by 2x within minutes here, but two processes measured back to back move together,
// so the median of the per-round B/A ratios is what to quote.
//
//   AB_ENV="WEBHOOK_KAFKA_IN_FLIGHT=4"   B's extra environment (A runs with the defaults)
//   AB_A_ROOT=/tmp/base                   A runs the code of another checkout, e.g. an earlier
//                                         commit: git worktree add /tmp/base <commit> and
//                                         ln -s "$PWD/node_modules" /tmp/base/node_modules
//   AB_ROUNDS (default 8), AB_REQUESTS (per round and process, default 15000), BENCH_CONNECTIONS (64)
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '@wa/persistence';
import { createTestDatabase, createTestKafka, freePort, waitFor } from '@wa/testing';
import { ingressService } from '../services/webhook-ingress/src/service';
import { cpuSeconds, fmt, ingressEnv, load, median, rateOf, ROOT, startProcess, stop } from './support/ingress-load';

const ROUNDS = Number(process.env.AB_ROUNDS ?? 8);
const REQUESTS = Number(process.env.AB_REQUESTS ?? 15000);
const B_ENV = Object.fromEntries(
  (process.env.AB_ENV ?? '')
    .split(' ')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const A_ROOT = process.env.AB_A_ROOT ?? ROOT;

/** Topic names another checkout's contracts registry declares (it may name topics this one does not). */
function topicNamesOf(root: string): string[] {
  // Another checkout's module, found at run time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ALL_TOPICS } = require(join(root, 'libs', 'contracts', 'src', 'topics.ts')) as { ALL_TOPICS: { name: string }[] };
  return ALL_TOPICS.map((t) => t.name);
}

async function main(): Promise<void> {
  const tk = await createTestKafka('bench-ab');
  const db = await createTestDatabase(['ingress']);
  await migrate({ schema: 'ingress', url: db.migratorUrl('ingress'), entities: [], migrations: ingressService.migrations });
  if (A_ROOT !== ROOT) {
    if (!readdirSync(A_ROOT).includes('node_modules')) throw new Error(`${A_ROOT} has no node_modules (link this checkout's)`);
    const admin = tk.kafka.admin();
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = topicNamesOf(A_ROOT).filter((name) => !existing.has(`${tk.prefix}${name}`));
    await admin.createTopics({ topics: missing.map((name) => ({ topic: `${tk.prefix}${name}`, numPartitions: 6, replicationFactor: 1 })) });
    await admin.disconnect();
  }

  const variants = [];
  for (const [name, root, extra] of [
    ['A', A_ROOT, {}],
    ['B', ROOT, B_ENV],
  ] as const) {
    const port = await freePort();
    const env = { ...ingressEnv(port, db.appUrl('ingress'), tk.prefix), INGRESS_CONSUMERS: 'false', ...extra };
    const started = startProcess(['services/webhook-ingress/src/main.ts'], env, [], root);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok, {
      timeoutMs: 120000,
      intervalMs: 500,
      what: `ingress ${name} to be ready\n${started.output()}`,
    });
    variants.push({ name, url, child: started.child, cpu: [] as number[], rate: [] as number[] });
  }
  const [a, b] = variants;
  try {
    console.log(
      `\nbench:ingress-ab  A = ${A_ROOT === ROOT ? 'this checkout' : A_ROOT}, defaults; B = this checkout, ${JSON.stringify(B_ENV)}`,
    );
    console.log(`${ROUNDS} rounds x ${fmt(REQUESTS)} requests per process, alternating (A first in odd rounds)\n`);
    for (const v of variants) await load([v.url], 5000); // JIT, connections
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of round % 2 ? [b, a] : [a, b]) {
        const before = cpuSeconds(v.child.pid) ?? 0;
        const r = await load([v.url], REQUESTS);
        if (r.non2xx || r.errors) throw new Error(`${v.name}: ${r.non2xx} non-2xx, ${r.errors} errors (is its topic there?)`);
        v.cpu.push((((cpuSeconds(v.child.pid) ?? 0) - before) / r['2xx']) * 1e6);
        v.rate.push(rateOf(r));
      }
      console.log(
        `round ${round + 1}: A ${fmt(a.cpu[round])} µs/request ${fmt(a.rate[round])} req/s;  B ${fmt(b.cpu[round])} µs ${fmt(b.rate[round])} req/s;` +
          `  B/A CPU ${(b.cpu[round] / a.cpu[round]).toFixed(3)}, rate ${(b.rate[round] / a.rate[round]).toFixed(3)}`,
      );
    }
    const cpuRatio = median(a.cpu.map((x, i) => b.cpu[i] / x));
    const rateRatio = median(a.rate.map((x, i) => b.rate[i] / x));
    console.log(
      `\nmedian CPU per request: A ${fmt(median(a.cpu), 1)} µs, B ${fmt(median(b.cpu), 1)} µs;  median of per-round B/A: CPU ${cpuRatio.toFixed(3)}, rate ${rateRatio.toFixed(3)}\n`,
    );
  } finally {
    for (const v of variants) await stop(v.child);
    await db.drop().catch(() => undefined);
    await tk.cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
