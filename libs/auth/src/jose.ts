import type * as Jose from 'jose';

/**
 * jose 6 is ESM-only. Node (>= 20.19) loads it with require(), so production code simply requires
 * it, lazily. Jest's module registry on Node 20 cannot load ESM from node_modules; test files that
 * verify real tokens run in `libs/auth/testing/jose-environment.cjs`, which loads jose natively and
 * hands it over under this symbol. Nothing else ever sets it.
 */
export const JOSE_HANDOVER = Symbol.for('wa.auth.jose');

let loaded: typeof Jose | undefined;

export function jose(): typeof Jose {
  if (!loaded) {
    const handedOver = (globalThis as Record<symbol, unknown>)[JOSE_HANDOVER] as typeof Jose | undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: see the note above
    loaded = handedOver ?? (require('jose') as typeof Jose);
  }
  return loaded;
}
