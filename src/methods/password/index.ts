import type { AuthMethod } from '../types.js';
import { DUMMY_HASH, verifyPassword } from './argon.js';

/**
 * Password (knowledge). argon2id on libuv's threadpool, before the customer's lock is taken; under the
 * lock we only check the hash did not change meanwhile. A customer without a password still costs one
 * argon2 verification, so timing says nothing.
 */
export const passwordMethod: AuthMethod<{ ok: boolean; digest: string | null }> = {
  kind: 'password',
  category: 'knowledge',
  multiple: false,
  async precheck(deps, authenticator, proof) {
    const digest = authenticator?.secret_digest ?? null;
    const ok = await verifyPassword(digest ?? (await DUMMY_HASH(deps.config.argon2)), proof.password ?? '');
    return { ok: ok && digest !== null, digest };
  },
  async verify(_ctx, authenticator, _proof, pre) {
    return !!pre && pre.ok && authenticator !== null && authenticator.secret_digest === pre.digest;
  },
};
