import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, createTestKafka, waitFor, type TestDatabase, type TestKafka } from '@wa/testing';

const ROOT = join(__dirname, '..', '..');

describe('a service process shuts down cleanly on SIGTERM', () => {
  let db: TestDatabase;
  let tk: TestKafka;

  beforeAll(async () => {
    db = await createTestDatabase(['handoff']);
    // The service's own migrate command, as the Kubernetes Job runs it.
    execFileSync(process.execPath, ['-r', './tools/ts-register.cjs', 'services/handoff-router/src/migrate.ts'], {
      cwd: ROOT,
      env: { ...process.env, MIGRATION_DATABASE_URL: db.migratorUrl('handoff') },
    });
    tk = await createTestKafka('shutdown');
  });

  afterAll(async () => {
    await db.drop();
    await tk.cleanup();
  });

  it('becomes ready, then exits 0 well within the grace period after SIGTERM', async () => {
    const port = 39000 + Math.floor(Math.random() * 1000);
    const child = spawn(process.execPath, ['-r', './tools/ts-register.cjs', 'services/handoff-router/src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        DATABASE_URL: db.appUrl('handoff'),
        KAFKA_BROKERS: tk.options.brokers.join(','),
        KAFKA_TOPIC_PREFIX: tk.prefix,
        LOG_LEVEL: 'info',
        SHUTDOWN_TIMEOUT_MS: '15000',
        AUTH_MODE: 'sandbox',
        AUTH_SANDBOX_SECRET: 'graceful-shutdown-test-signing-key-0123456789',
      },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
          return response.ok;
        },
        { what: `readiness (output so far: ${output.slice(-500)})`, timeoutMs: 60000, intervalMs: 250 },
      );
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    const started = Date.now();
    child.kill('SIGTERM');
    const result = await exited;
    const tookMs = Date.now() - started;
    expect(result).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(15000);
    expect(output).toContain('SIGTERM: shutting down');
    expect(output).toContain('shutdown complete');
  });
});
