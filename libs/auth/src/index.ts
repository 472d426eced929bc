/**
 * `@wa/auth` — bearer-token authentication for every REST API of the platform.
 *
 * ```ts
 * // env: class MyEnv extends withAuthEnv(BaseEnv) {}
 * // module: imports: [PlatformModule.forRoot(...), AuthModule.forRoot(env)]
 * @Roles('template-editor')            // 401 without a valid token, 403 without the role (admin always passes)
 * @Get('templates')
 * list(@CurrentPrincipal() who: Principal) { return repo.find({ where: { tenantId: who.tenant } }); }
 * ```
 *
 * Tokens are JWTs with `sub`, `tenant` and `roles` (admin, template-editor, flow-editor,
 * supervisor, agent). Production verifies them against the OIDC issuer's JWKS (AUTH_ISSUER,
 * AUTH_AUDIENCE, AUTH_JWKS_URL); sandbox mode against a local HS256 key (AUTH_SANDBOX_SECRET, or
 * AUTH_SANDBOX_KEY_FILE, or `.local/auth/sandbox-signing.key`), for which `tools/mint-token.ts`
 * mints development tokens. Sandbox mode is refused when NODE_ENV=production.
 *
 * Jest: jose 6 is ESM-only; a test file that verifies real tokens needs the docblock
 * `@jest-environment <rootDir>/libs/auth/testing/jose-environment.cjs` (see ./jose.ts).
 */
export * from './principal';
export * from './auth-env';
export * from './token-verifier';
export * from './mint';
export * from './nest';
export { jose } from './jose';
