// jose 6 is ESM-only. Node (>= 20.19) loads it with require(), but Jest's module registry on
// Node 20 refuses ESM from node_modules. Test files that verify real tokens run in this
// environment (docblock `@jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs`): it
// loads jose natively and hands it to @wa/auth through a global symbol. Production never sets it.
const { TestEnvironment } = require('jest-environment-node');

class JoseEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global[Symbol.for('wa.auth.jose')] = require('jose');
  }
}

module.exports = JoseEnvironment;
