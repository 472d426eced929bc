// The chatbot engine's share of a turn with the flow definition parsed per turn (as reading the
// version's row each turn does: the driver parses the jsonb definition into a new object, and the
// engine's FAQ index, cached per definition object, is built again) and with one definition kept
// per process (FlowCache). The turns of bench:chatbot: "hola" (new session, welcome menu) and
// "1" (the menu's first option); plus a FAQ question, which searches the FAQ index.
// Rounds alternate; CPU per turn (process.cpuUsage) is printed per round and as the median.
//   node -r ./tools/ts-register.cjs bench/support/flow-turn-cost.ts [turns per round, default 400] [rounds, default 5]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFlow, runTurn } from '../../services/chatbot/src/flows';
import type { FlowDefinition, Session } from '../../services/chatbot/src/flows/flow.types';
import { fakeContext } from '../../services/chatbot/src/flows/testing';
import { fmt, median, ROOT } from './ingress-load';

const TURNS = Number(process.argv[2] ?? 400);
const ROUNDS = Number(process.argv[3] ?? 5);

async function main(): Promise<void> {
  const loaded = loadFlow(readFileSync(join(ROOT, 'services', 'chatbot', 'flows', 'roads-agency', 'main.yaml'), 'utf8'));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  // The jsonb column's text, as the driver receives it.
  const stored = JSON.stringify(loaded.flow);
  const keptDefinition = JSON.parse(stored) as FlowDefinition;

  /** One citizen's three turns; `definition` gives the definition each turn runs. */
  async function citizen(definition: () => FlowDefinition): Promise<void> {
    const ctx = fakeContext({ language: 'es' });
    let session: Session | null = null;
    for (const text of ['hola', '1', 'horario de atención']) {
      const result = await runTurn(definition(), 1, session, { kind: 'text', text }, ctx);
      if (result.error) throw new Error(result.error);
      session = result.ended ? null : result.session;
    }
  }
  const variants = {
    'parsed per turn': () => JSON.parse(stored) as FlowDefinition,
    'kept per process': () => keptDefinition,
  };
  for (const run of Object.values(variants)) for (let i = 0; i < 50; i++) await citizen(run); // warm-up (JIT)

  const perTurn: Record<string, number[]> = { 'parsed per turn': [], 'kept per process': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(variants)) {
      const before = process.cpuUsage();
      for (let i = 0; i < TURNS / 3; i++) await citizen(run);
      const used = process.cpuUsage(before);
      perTurn[name].push((used.user + used.system) / (Math.floor(TURNS / 3) * 3));
    }
  }
  console.log(
    `flow definition ${fmt(stored.length / 1024)} KiB as JSON; ${ROUNDS} rounds x ${Math.floor(TURNS / 3) * 3} turns, alternating`,
  );
  for (const [name, values] of Object.entries(perTurn))
    console.log(`${name.padEnd(18)} median ${fmt(median(values))} µs CPU per turn   (rounds: ${values.map((v) => fmt(v)).join(', ')})`);
  const parsed = median(perTurn['parsed per turn']);
  const kept = median(perTurn['kept per process']);
  console.log(`saved per turn: ${fmt(parsed - kept)} µs (${fmt((1 - kept / parsed) * 100)} %)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
