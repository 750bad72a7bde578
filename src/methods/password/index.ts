import { Conflict } from '../../core/errors.js';
import type { AuthMethod } from '../types.js';
import { DUMMY_HASH, hashPassword, needsRehash, verifyPassword } from './argon.js';

/**
 * Password (knowledge). argon2id on libuv's threadpool, before the customer's lock is taken; the
 * attempt's commit only checks the hash did not change meanwhile. A customer without a password still costs one
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
  // The hash checked before must still be the one stored (the commit re-checks it too). A right password
  // checked against a hash replaced meanwhile (a rehash at new parameters, a change) is not a failure to
  // count: the attempt is refused whole with a conflict, and tried again against the current hash.
  check(_ctx, authenticator, _proof, pre) {
    if (!pre?.ok || authenticator === null) return { ok: false };
    if (authenticator.secret_digest !== pre.digest) {
      throw new Conflict('ERR_CONCURRENT_CHANGE', "The customer's password changed during this attempt: try again.");
    }
    return { ok: true, change: {} };
  },
  async afterSuccess(deps, db, authenticator, proof) {
    const old = authenticator.secret_digest;
    if (!old || !proof.password || !needsRehash(old, deps.config.argon2)) return;
    const fresh = await hashPassword(proof.password, deps.config.argon2);
    // Only if nobody changed the password meanwhile.
    await db
      .updateTable('authenticators')
      .set({ secret_digest: fresh })
      .where('id', '=', authenticator.id)
      .where('secret_digest', '=', old)
      .execute();
  },
};
