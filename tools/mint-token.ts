// Mints a development bearer token for the sandbox-mode APIs (never for production: there tokens
// come from the agencies' OIDC issuer).
//
//   node -r ./tools/ts-register.cjs tools/mint-token.ts --tenant roads-agency --roles template-editor [--sub ana] [--ttl 8h]
//
// The key is the services' own: AUTH_SANDBOX_SECRET, else AUTH_SANDBOX_KEY_FILE, else
// .local/auth/sandbox-signing.key (created on first use; services in sandbox mode read the same).
// AUTH_ISSUER / AUTH_AUDIENCE / AUTH_TENANT_CLAIM / AUTH_ROLES_CLAIM are honoured when set.
import { parseArgs } from 'node:util';
import { isRole, loadSandboxKey, mintSandboxToken, ROLES, type Role } from '@wa/auth';

const USAGE = `usage: mint-token --tenant <tenant-id> [--roles ${ROLES.join(',')}] [--sub <subject>] [--ttl 8h] [--json]`;

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') throw new Error('refusing to mint tokens with NODE_ENV=production');
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      roles: { type: 'string', default: 'template-editor' },
      sub: { type: 'string', default: `dev-${process.env.USER ?? 'user'}` },
      ttl: { type: 'string', default: '8h' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.tenant) throw new Error(`--tenant is required\n${USAGE}`);
  const roles = values.roles
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const unknown = roles.filter((r) => !isRole(r));
  if (unknown.length) throw new Error(`unknown role(s) ${unknown.join(', ')}; known: ${ROLES.join(', ')}`);
  if (!/^\d+[smhd]$/.test(values.ttl)) throw new Error('--ttl is a number with s, m, h or d (e.g. 15m, 8h)');
  const key = loadSandboxKey({ secret: process.env.AUTH_SANDBOX_SECRET, keyFile: process.env.AUTH_SANDBOX_KEY_FILE });
  const token = await mintSandboxToken({
    key,
    sub: values.sub,
    tenant: values.tenant,
    roles: roles as Role[],
    expiresIn: values.ttl,
    issuer: process.env.AUTH_ISSUER,
    audience: process.env.AUTH_AUDIENCE,
    tenantClaim: process.env.AUTH_TENANT_CLAIM,
    rolesClaim: process.env.AUTH_ROLES_CLAIM,
  });
  process.stdout.write(
    values.json ? `${JSON.stringify({ token, tenant: values.tenant, roles, sub: values.sub, ttl: values.ttl })}\n` : `${token}\n`,
  );
}

main().catch((error: Error) => {
  process.stderr.write(`mint-token: ${error.message}\n`);
  process.exit(1);
});
