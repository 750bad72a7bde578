import type { AuthMethod } from '../types.js';
import { matchTotp, type TotpParams } from './totp.js';

/** What is stored in `authenticators.params` for a TOTP (the seed is sealed apart). */
export type StoredTotpParams = Omit<TotpParams, 'secretBase32'>;

/** Where a TOTP seed is sealed: bound to its authenticator row. */
export const totpSealContext = (authenticatorId: string) => `totp:${authenticatorId}`;

/**
 * TOTP (possession, RFC 6238). Verified under the customer's lock so that the last accepted time step
 * is read and advanced atomically: a code is accepted once, even by two processes at the same instant.
 */
export const totpMethod: AuthMethod = {
  kind: 'totp',
  category: 'possession',
  multiple: true,
  async verify(ctx, authenticator, proof) {
    if (!authenticator || !authenticator.secret_sealed) return false;
    const params = authenticator.params as unknown as StoredTotpParams;
    const secretBase32 = ctx.deps.sealer.open(authenticator.secret_sealed, totpSealContext(authenticator.id)).toString('utf8');
    const match = matchTotp({
      secretBase32,
      algorithm: params.algorithm,
      digits: params.digits,
      period: params.period,
      code: proof.code ?? '',
      now: ctx.now,
      window: ctx.deps.config.totp.window,
      lastUsedStep: authenticator.last_used_step,
    });
    if (!match.ok) return false;
    await ctx.tx
      .updateTable('authenticators')
      .set({ last_used_step: match.step, last_used_at: ctx.now })
      .where('id', '=', authenticator.id)
      .execute();
    return true;
  },
};
