import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

/**
 * The local broker as deploy/local/kafka.sh runs it. Its state directory (pid file, data) is the
 * checkout's `.local/kafka` unless KAFKA_LOCAL_DIR names the one the running broker was started
 * from (a worktree sharing another checkout's broker).
 */
export class LocalBroker {
  readonly stateDir = process.env.KAFKA_LOCAL_DIR ?? join(ROOT, '.local', 'kafka');

  /** Fails unless the running broker is one this script can stop and start again. */
  assertManaged(): void {
    const pidfile = join(this.stateDir, 'kafka.pid');
    const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : NaN;
    let alive = false;
    try {
      alive = Number.isInteger(pid) && process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) {
      throw new Error(
        `no broker started by deploy/local/kafka.sh in ${this.stateDir}; start it with npm run kafka:start ` +
          `or set KAFKA_LOCAL_DIR to the state directory of the running one`,
      );
    }
  }

  stop(): Promise<unknown> {
    return this.script('stop');
  }

  /** Returns once the broker listens again. */
  start(): Promise<unknown> {
    return this.script('start');
  }

  private script(command: 'start' | 'stop') {
    return run('bash', [join(ROOT, 'deploy', 'local', 'kafka.sh'), command], {
      cwd: ROOT,
      env: { ...process.env, KAFKA_LOCAL_DIR: this.stateDir },
      timeout: 120000,
    });
  }
}
