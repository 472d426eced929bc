// Builds the agent console (Lit, TypeScript) into dist/console/: index.html, one JS bundle and one
// stylesheet, named by content hash so the router can cache them for good. Everything comes from
// npm packages at build time; the page loads nothing from elsewhere.
//
//   node services/handoff-router/console/build.mjs          build (npm run console:build)
//   node services/handoff-router/console/build.mjs --if-stale  only when a source is newer than the build
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
export const CONSOLE_OUT = join(root, 'dist', 'console');
const STAMP = join(CONSOLE_OUT, 'build.json');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    const stat = statSync(full);
    latest = Math.max(latest, stat.isDirectory() ? newest(full) : stat.mtimeMs);
  }
  return latest;
}

/** True when the built console is missing or older than any of its sources. */
export function consoleIsStale() {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return (
    newest(join(here, 'src')) > built ||
    statSync(join(here, 'index.html')).mtimeMs > built ||
    statSync(join(here, 'styles.css')).mtimeMs > built
  );
}

export async function buildConsole({ ifStale = false } = {}) {
  if (ifStale && !consoleIsStale()) return { built: false, dir: CONSOLE_OUT };
  const esbuild = await import('esbuild');
  rmSync(CONSOLE_OUT, { recursive: true, force: true });
  mkdirSync(CONSOLE_OUT, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { console: join(here, 'src', 'main.ts'), styles: join(here, 'styles.css') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    tsconfig: join(here, 'tsconfig.json'),
    entryNames: '[name]-[hash]',
    outdir: CONSOLE_OUT,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => /^console-[A-Z0-9]+\.js$/.test(f));
  const css = outputs.find((f) => /^styles-[A-Z0-9]+\.css$/.test(f));
  if (!js || !css) throw new Error(`console build: unexpected outputs ${outputs.join(', ')}`);
  const html = readFileSync(join(here, 'index.html'), 'utf8').replace('%STYLES%', `/console/${css}`).replace('%SCRIPT%', `/console/${js}`);
  writeFileSync(join(CONSOLE_OUT, 'index.html'), html);
  writeFileSync(STAMP, JSON.stringify({ script: js, stylesheet: css }, null, 2));
  return { built: true, dir: CONSOLE_OUT, files: [...outputs, 'index.html'] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  const { built, files } = await buildConsole({ ifStale: process.argv.includes('--if-stale') });
  console.log(built ? `console built into dist/console (${files.join(', ')}) in ${Date.now() - started} ms` : 'console up to date');
}
