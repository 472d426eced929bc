import type { RunningStack } from './stack';
import { RUNNING } from './global-setup';

/** Stops the run's stack: every process, then its topics and database. */
export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as Record<symbol, unknown>)[RUNNING] as RunningStack | undefined;
  await stack?.stop();
}
