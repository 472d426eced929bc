// Jest's module loader cannot require() an ES module (Node 20 can, so the services load
// @platformatic/kafka natively). For the test runner only, this compiles that package's ESM to
// CommonJS with swc; `import.meta.url`, which CommonJS lacks, becomes the file's own URL.
const { transformSync } = require('@swc/core');
const { pathToFileURL } = require('node:url');

module.exports = {
  process(source, filename) {
    const url = JSON.stringify(pathToFileURL(filename).href);
    const { code } = transformSync(source.replaceAll('import.meta.url', url), {
      filename,
      swcrc: false,
      configFile: false,
      jsc: { target: 'es2022', parser: { syntax: 'ecmascript' } },
      module: { type: 'commonjs' },
    });
    return { code };
  },
};
