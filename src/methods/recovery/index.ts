import type { AuthMethod } from '../types.js';
import { hashRecoveryCode, normaliseRecoveryCode } from './codes.js';

/**
 * Recovery codes: printed one-time codes that stand in for a lost device (possession of the sheet).
 * Policy allows them only to get back in and re-enrol, never for a payment. Each code works once.
 */
export const recoveryMethod: AuthMethod = {
  kind: 'recovery',
  category: 'possession',
  multiple: false,
  async verify(ctx, authenticator, proof) {
    if (!authenticator) return false;
    const hash = hashRecoveryCode(ctx.deps.hashKey, authenticator.id, normaliseRecoveryCode(proof.code ?? ''));
    // The UPDATE itself is the check: it only touches an unused code with that keyed hash.
    const used = await ctx.tx
      .updateTable('recovery_codes')
      .set({ used_at: ctx.now })
      .where('authenticator_id', '=', authenticator.id)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return false;
    await ctx.tx.updateTable('authenticators').set({ last_used_at: ctx.now }).where('id', '=', authenticator.id).execute();
    return true;
  },
};
