import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Whether Node's HTTP server is wrapped by the instrumentation after startTracing, in a fresh process. */
function httpPatchedWith(env: Record<string, string>): boolean {
  const script = `
    require('./libs/observability/src/tracing.ts').startTracing({ serviceName: 'tracing-spec' });
    process.stdout.write(String(Boolean(require('node:http').Server.prototype.emit.__wrapped)));
    process.exit(0);`;
  const output = execFileSync(process.execPath, ['-r', './tools/ts-register.cjs', '-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', OTEL_TRACES_EXPORTER: 'none', ...env },
    encoding: 'utf8',
  });
  return output.trim() === 'true';
}

describe('startTracing', () => {
  it('instruments HTTP when tracing is on', () => {
    expect(httpPatchedWith({})).toBe(true);
  });

  it('patches nothing under OTEL_SDK_DISABLED=true (a disabled SDK must cost nothing per request)', () => {
    expect(httpPatchedWith({ OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(httpPatchedWith({ OTEL_SDK_DISABLED: ' TRUE ' })).toBe(false);
  });
});
