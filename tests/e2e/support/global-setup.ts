import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import checkInfrastructure from '../../../libs/testing/src/global-setup';
import { publishFacts, startStack, type RunningStack } from './stack';

/**
 * One stack for the whole e2e run (as one `stack:up` serves everything): started before the test
 * files, which attach to it (attachStack), and stopped by global-teardown.ts, passed or failed.
 */
export const RUNNING = Symbol.for('wa.e2e.stack');

export default async function globalSetup(): Promise<void> {
  await checkInfrastructure();
  // The router looks for the agent console's bundle when it starts: build it first (only when
  // missing or older than its sources), as `npm run build` and `stack:up` do.
  const build = spawnSync(process.execPath, ['services/handoff-router/console/build.mjs', '--if-stale'], {
    cwd: join(__dirname, '..', '..', '..'),
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`console build failed:\n${build.stderr}`);
  const stack: RunningStack = await startStack(
    'e2e',
    ['webhook-ingress', 'outbound-gateway', 'template-registry', 'notification-scheduler', 'chatbot', 'handoff-router'],
    {
      // Faster rounds than production's, so the run is short; the behaviour is the same.
      'template-registry': { TEMPLATES_SUBMIT_INTERVAL_MS: '200' },
      'notification-scheduler': { SCHEDULER_SWEEP_INTERVAL_MS: '200' },
    },
  );
  (globalThis as Record<symbol, unknown>)[RUNNING] = stack;
  publishFacts(stack.facts);
}
