// Compiles libs/ and services/ to dist/ with swc (decorator metadata kept, @wa/* aliases rewritten
// to relative paths) so a container runs plain `node dist/services/<svc>/src/main.js`, then bundles
// the handoff router's agent console (browser code, its own build) into dist/console/.
import { readFileSync, mkdirSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import swc from '@swc/core';
import { buildConsole } from '../services/handoff-router/console/build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const swcrc = JSON.parse(readFileSync(join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const { paths } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')).compilerOptions;
// Browser sources, bundled by esbuild below rather than compiled for Node.
const BROWSER_SOURCES = join(root, 'services', 'handoff-router', 'console');

function* sources(dir) {
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (entry !== 'node_modules' && entry !== 'test' && full !== BROWSER_SOURCES) yield* sources(full);
    } else if (entry.endsWith('.ts') && !entry.endsWith('.spec.ts') && !entry.endsWith('.d.ts')) {
      yield full;
    }
  }
}

let count = 0;
for (const top of ['libs', 'services']) {
  for (const file of sources(join(root, top))) {
    const out = join(root, 'dist', relative(root, file)).replace(/\.ts$/, '.js');
    const { code } = await swc.transformFile(file, {
      ...swcrc,
      swcrc: false,
      sourceMaps: false,
      jsc: { ...swcrc.jsc, baseUrl: root, paths },
    });
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, code);
    count++;
  }
}
console.log(`built ${count} files into dist/`);
const { files } = await buildConsole();
console.log(`built the agent console into dist/console/ (${files.join(', ')})`);
