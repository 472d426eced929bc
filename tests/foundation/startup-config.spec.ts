import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function start(env: Record<string, string>) {
  return spawnSync(process.execPath, ['-r', './tools/ts-register.cjs', 'services/outbound-gateway/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', OTEL_TRACES_EXPORTER: 'none', ...env },
    encoding: 'utf8',
    timeout: 30000,
  });
}

describe('a service refuses to start with a bad environment', () => {
  it('exits non-zero naming a missing variable', () => {
    const result = start({ PORT: '3999' });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('refusing to start');
    expect(result.stderr).toMatch(/DATABASE_URL \(missing\)/);
  });

  it('exits non-zero naming each malformed variable, without echoing secrets', () => {
    const result = start({ PORT: 'eighty', DATABASE_URL: 'mysql://svc:hunter2@db/x', KAFKA_BROKERS: 'no-port', LOG_LEVEL: 'chatty' });
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(/PORT \("eighty"\)/);
    expect(result.stderr).toMatch(/DATABASE_URL .*postgres:\/\//);
    expect(result.stderr).toMatch(/KAFKA_BROKERS \("no-port"\)/);
    expect(result.stderr).toMatch(/LOG_LEVEL \("chatty"\)/);
    expect(result.stderr).toContain('mysql://svc:***@db/x');
    expect(result.stderr).not.toContain('hunter2');
  });
});
