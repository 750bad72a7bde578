import type { AuthMethod } from '../types.js';
import { matchTotp, type TotpParams } from './totp.js';

/** What is stored in `authenticators.params` for a TOTP (the seed is sealed apart). */
export type StoredTotpParams = Omit<TotpParams, 'secretBase32'>;

/** Where a TOTP seed is sealed: bound to its authenticator row. */
export const totpSealContext = (authenticatorId: string) => `totp:${authenticatorId}`;

/**
 * TOTP (possession, RFC 6238). The step a code matched becomes the authenticator's last used step in the
 * attempt's commit, which only applies if the step read is still the last one: a code is accepted once,
 * even by two processes at the same instant.
 */
export const totpMethod: AuthMethod = {
  kind: 'totp',
  category: 'possession',
  multiple: true,
  check(ctx, authenticator, proof) {
    if (!authenticator || !authenticator.secret_sealed) return { ok: false };
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
    return match.ok ? { ok: true, change: { lastUsedStep: match.step } } : { ok: false };
  },
};
