// Three projects: `unit` (pure logic, no infrastructure), `integration` (real Kafka + Postgres,
// started by .ci/run or `npm run infra:up`) and `e2e` (tests/e2e: the services as processes with
// the Cloud API sandbox). Integration and e2e files run one at a time per worker; each uses its own
// topic prefix and database so files never see each other's data.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target.replace(/^\.\//, '')}`]),
);
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
    },
  ],
  // ESM-only dependencies (see the transformer), compiled for Jest's CommonJS loader.
  '/node_modules/@platformatic/kafka/dist/.+\\.js$': '<rootDir>/tools/jest-esm-to-cjs.cjs',
};
const common = {
  transform,
  transformIgnorePatterns: ['/node_modules/(?!@platformatic/kafka/)'],
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,services,deploy,tools,tests,sandbox}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{libs,services,deploy,tools,tests,sandbox}/**/*.int-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/libs/testing/src/integration-timeout.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
    },
    {
      // The services as separate processes (as `npm run stack:up` runs them) and the sandbox, on
      // their own ports, topic prefix and database; driven through public interfaces only.
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/tests/e2e/**/*.e2e-spec.ts'],
      // The tests mint real tokens (jose is ESM-only; this environment loads it natively).
      testEnvironment: '<rootDir>/libs/auth/testing/jose-environment.cjs',
      // One stack for the run, started before the files and stopped after them (passed or failed).
      globalSetup: '<rootDir>/tests/e2e/support/global-setup.ts',
      globalTeardown: '<rootDir>/tests/e2e/support/global-teardown.ts',
    },
  ],
};
