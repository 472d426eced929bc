// `npm run test:faults`: fault-injection runs against the real broker and Postgres (stopping the
// local broker, killing services). Not part of `npm test`: they take minutes and disturb whoever
// else uses the machine's broker for up to a minute. Files run one at a time. FAULTS_SHORT=1 is the
// version CI runs (tests/faults/support/short.ts).
const { projects } = require('../../jest.config.js');

const integration = projects.find((p) => p.displayName === 'integration');

module.exports = {
  ...integration,
  displayName: 'faults',
  testMatch: ['<rootDir>/tests/faults/**/*.fault-spec.ts'],
  setupFilesAfterEnv: [],
  // The stack runs mint real tokens (jose is ESM-only; this environment loads it natively).
  testEnvironment: '<rootDir>/libs/auth/testing/jose-environment.cjs',
  testTimeout: 600000,
  maxWorkers: 1,
};
