import { safeEqual } from '../../crypto/tokens.js';
import { appendAudit } from '../../store/audit.js';
import { enqueueEvent } from '../../store/outbox.js';
import type { AuthenticatorRow } from '../../store/schema.js';
import type { AuthMethod, VerifyContext } from '../types.js';
import { challengeOf, verifyWebAuthnAssertion, type RegisteredWebAuthnCredential } from './assertion.js';
import { consumeChallenge, operationChallenge, webauthnRelyingParty } from './challenges.js';

/** What is stored in `authenticators.params` for a passkey or security key (public data only). */
export type StoredWebAuthnParams = Omit<RegisteredWebAuthnCredential, 'userVerified'>;

/**
 * Passkeys and security keys (WebAuthn, user verification required). One gesture proves two elements:
 * possession of the key and inherence or knowledge (fingerprint, face, device PIN) checked by the
 * authenticator, attested by its UV flag.
 *
 * The proof is consumed in the database (`verify`, under the customer's lock): the assertion must answer
 * an unused, unexpired challenge issued for this operation and derived from its link hash. A genuine
 * signature whose counter did not move forward means the key was copied: the authenticator is suspended
 * and the bank told (`authenticator.clone_suspected`).
 */
export const webauthnMethod: AuthMethod = {
  kind: 'webauthn',
  category: 'possession',
  proofCategories: () => ['possession', 'inherence'],
  enrolledCategories: ['possession', 'inherence'],
  multiple: true,
  async verify(ctx, authenticator, proof) {
    if (!authenticator) return false;
    const params = authenticator.params as unknown as StoredWebAuthnParams;
    const credential = proof.credential;
    // Several keys may be enrolled: only the one the browser used is tried (and consumes the challenge).
    if (!credential || typeof credential.id !== 'string' || credential.id !== params.credentialId) return false;
    const challenge = challengeOf(credential);
    if (!challenge) return false;
    const row = await consumeChallenge(ctx.tx, {
      challenge,
      customerId: ctx.operation.customer_id,
      purpose: 'authenticate',
      operationId: ctx.operation.id,
      now: ctx.now,
    });
    // Dynamic linking: the challenge must still be the one derived from this operation's link hash.
    if (!row || !safeEqual(operationChallenge(ctx.operation.link_hash, row.nonce), row.challenge)) return false;
    const rp = webauthnRelyingParty(ctx.deps.config);
    const verdict = await verifyWebAuthnAssertion({
      stored: { credentialId: params.credentialId, publicKey: params.publicKey, counter: params.counter, transports: params.transports },
      response: credential,
      expectedChallenge: row.challenge,
      requireUserVerification: true,
      rpId: rp.rpId,
      origins: rp.origins,
    });
    if (verdict.cloneSuspected) {
      await suspendCloned(ctx, authenticator, params, verdict.newCounter);
      return false;
    }
    if (!verdict.ok || !verdict.userVerified) return false;
    await ctx.tx
      .updateTable('authenticators')
      .set({ params: JSON.stringify({ ...params, counter: verdict.newCounter }), last_used_at: ctx.now })
      .where('id', '=', authenticator.id)
      .execute();
    return true;
  },
};

/**
 * A cloned key: suspended at once, audited and announced, in the attempt's transaction (which also counts
 * the failure). Audited on the `system` chain: the customer's chain head is held by the attempt, which
 * appends its own `sca.failed` after this.
 */
async function suspendCloned(ctx: VerifyContext, a: AuthenticatorRow, params: StoredWebAuthnParams, reported: number): Promise<void> {
  await ctx.tx.updateTable('authenticators').set({ status: 'suspended' }).where('id', '=', a.id).where('status', '=', 'active').execute();
  const data = {
    customerId: a.customer_id,
    authenticatorId: a.id,
    kind: a.kind,
    category: a.category,
    aaguid: params.aaguid,
    storedCounter: params.counter,
    reportedCounter: reported,
    operationId: ctx.operation.id,
    status: 'suspended',
  };
  await appendAudit(ctx.tx, 'system', ctx.now, { type: 'authenticator.clone_suspected', actor: 'system', data });
  await enqueueEvent(ctx.tx, ctx.now, { type: 'authenticator.clone_suspected', rpId: null, data });
}
