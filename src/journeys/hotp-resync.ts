import { AuthenticationFailed, NotFound } from '../core/errors.js';
import { assertNotBlocked, registerFailure } from '../core/lockout.js';
import { HOTP_RESYNC_WINDOW, hotpSealContext, nextHotpCounter, type StoredHotpParams } from '../methods/hotp/index.js';
import { resyncHotp } from '../methods/hotp/hotp.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import { enqueueEvent } from '../store/outbox.js';
import { lockSecurityState, saveLockout, toLockout } from '../store/security-state.js';
import { authenticatorView, type AuthenticatorView } from './authenticators.js';

/**
 * Resynchronises a hardware HOTP token whose counter ran beyond the look-ahead: two consecutive codes,
 * searched over the next 100 counters (RFC 4226 §7.4).
 *
 * Why no SCA, but the failure counter: a resync authorises nothing and binds nothing new — it only moves
 * the counter of a token the customer already holds — so asking for SCA (which needs that very token)
 * would lock out the people it is for. But each try is a guess at a possession element, so a failure
 * counts in the customer's consecutive failures exactly like a failed authentication (RTS art. 4(3)(b):
 * at most 5, then a block), a blocked customer cannot resync, and the answer is the same generic 401.
 * A success does not reset the counter: it proves one element only, and resetting would let someone
 * holding the token alone wipe out the count of wrong passwords.
 *
 * @example
 * await resyncHotpToken(s, { rpId, customerId, authenticatorId, code1: '969429', code2: '338314' });
 */
export async function resyncHotpToken(
  s: Services,
  c: { rpId: string; customerId: string; authenticatorId: string; code1: string; code2: string },
): Promise<AuthenticatorView> {
  const outcome = await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    const state = await lockSecurityState(tx, c.customerId);
    assertNotBlocked(toLockout(state), now, s.lockoutPolicy);
    const a = await tx
      .selectFrom('authenticators')
      .selectAll()
      .where('id', '=', c.authenticatorId)
      .where('customer_id', '=', c.customerId)
      .where('kind', '=', 'hotp')
      .where('status', '=', 'active')
      .forUpdate()
      .executeTakeFirst();
    if (!a) throw new NotFound('Active HOTP authenticator');
    const params = a.params as unknown as StoredHotpParams;
    const from = nextHotpCounter(a);
    const match = resyncHotp({
      secret: s.sealer.open(a.secret_sealed!, hotpSealContext(a.id)),
      digits: params.digits,
      algorithm: params.algorithm,
      code1: c.code1,
      code2: c.code2,
      counter: from,
      resyncWindow: HOTP_RESYNC_WINDOW,
    });
    const chain = customerChain(c.customerId);
    const actor = `customer:${c.customerId}`;
    if (match.ok) {
      const row = await tx
        .updateTable('authenticators')
        .set({ last_used_step: match.nextCounter - 1, last_used_at: now })
        .where('id', '=', a.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      // Counters are not secrets; the codes are never recorded.
      const data = { customerId: c.customerId, authenticatorId: a.id, fromCounter: from, toCounter: match.nextCounter };
      await appendAudit(tx, chain, now, { type: 'hotp.resynced', actor, data });
      return { ok: true as const, view: authenticatorView(row) };
    }
    const failure = registerFailure(toLockout(state), now, s.lockoutPolicy);
    await saveLockout(tx, c.customerId, failure.state, now);
    const data = { customerId: c.customerId, authenticatorId: a.id, consecutiveFailures: state.failed_count + 1 };
    await appendAudit(tx, chain, now, { type: 'hotp.resync_failed', actor, data });
    if (failure.blocked) {
      const blocked = {
        customerId: c.customerId,
        blockedUntil: failure.blocked.until?.toISOString() ?? null,
        permanent: failure.blocked.permanent,
        nextBlockPermanent: failure.nextBlockPermanent,
      };
      await appendAudit(tx, chain, now, { type: 'customer.blocked', actor: 'system', data: blocked });
      await enqueueEvent(tx, now, { type: 'customer.blocked', rpId: null, data: blocked });
      if (failure.nextBlockPermanent) await enqueueEvent(tx, now, { type: 'customer.block_warning', rpId: null, data: blocked });
    }
    // Returned, not thrown: the failure must be committed.
    return {
      ok: false as const,
      remainingAttempts: failure.remainingAttempts,
      nextBlockPermanent: failure.nextBlockPermanent,
      blocked: failure.blocked,
    };
  });
  if (!outcome.ok) {
    // Counted once committed, like the blocks an authentication causes.
    if (outcome.blocked) s.metrics.customerBlocked(outcome.blocked.permanent);
    throw new AuthenticationFailed({ remainingAttempts: outcome.remainingAttempts, nextBlockPermanent: outcome.nextBlockPermanent });
  }
  return outcome.view;
}
