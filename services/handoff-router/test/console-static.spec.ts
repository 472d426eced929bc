import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_CSP, consoleDirectory, consoleHeaders } from '../src/console/console-static';

describe('console static files', () => {
  it('allow nothing but this origin: no inline code, no CDN, no framing', () => {
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("style-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe|https?:|\*/);
  });

  it('cache hashed files for good and the page never without revalidation', () => {
    expect(consoleHeaders('console-LDWBVAQQ.js')).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
    expect(consoleHeaders('styles-JWSCSQTZ.css')['content-type']).toBe('text/css; charset=utf-8');
    expect(consoleHeaders('index.html')).toMatchObject({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    expect(consoleHeaders('console.js')['cache-control']).toBe('no-cache');
  });

  it('find the build beside the sources and beside the compiled service', () => {
    const top = mkdtempSync(join(tmpdir(), 'console-'));
    const sources = join(top, 'services', 'handoff-router', 'src', 'console');
    mkdirSync(sources, { recursive: true });
    expect(consoleDirectory(sources)).toBeUndefined();
    mkdirSync(join(top, 'dist', 'console'), { recursive: true });
    writeFileSync(join(top, 'dist', 'console', 'index.html'), '<!doctype html>');
    expect(consoleDirectory(sources)).toBe(join(top, 'dist', 'console'));
    // The image: dist/services/handoff-router/src/console → dist/console.
    const compiled = join(top, 'dist', 'services', 'handoff-router', 'src', 'console');
    mkdirSync(compiled, { recursive: true });
    expect(consoleDirectory(compiled)).toBe(join(top, 'dist', 'console'));
  });
});
