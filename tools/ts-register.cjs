// Lets `node -r ./tools/ts-register.cjs file.ts` run the TypeScript sources directly (local stack,
// benchmarks, child processes in tests). swc strips types and keeps decorator metadata; type
// checking is `npm run typecheck`'s job. Production images use the compiled output of tools/build.mjs.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '..');
const swcrc = JSON.parse(fs.readFileSync(path.join(root, '.swcrc'), 'utf8'));
delete swcrc.$schema;
const { paths } = require(path.join(root, 'tsconfig.base.json')).compilerOptions;

const aliases = Object.entries(paths).map(([alias, [target]]) => [alias, path.join(root, target)]);
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolveAlias(request, ...rest) {
  for (const [alias, target] of aliases) {
    if (request === alias) return target;
  }
  return originalResolve.call(this, request, ...rest);
};

Module._extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { ...swcrc, filename, swcrc: false, configFile: false });
  module._compile(code, filename);
};

// `./flow.schema` must be flow.schema.ts, not a flow.schema.json beside it, as TypeScript and the
// compiled output resolve it; Node tries extensions in the order they were registered.
const loadJson = Module._extensions['.json'];
delete Module._extensions['.json'];
Module._extensions['.json'] = loadJson;
