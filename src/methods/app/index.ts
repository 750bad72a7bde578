import { createHash, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { approvalPayload, offlinePayload, truncateToDigits } from '../../../sdk/device/src/payload.js';
import { safeEqual } from '../../crypto/tokens.js';
import type { ElementCategory } from '../../core/elements.js';
import { verifyWebAuthnAssertion } from '../webauthn/assertion.js';
import { webauthnRelyingParty } from '../webauthn/challenges.js';
import type { AppApprovalProof, AuthMethod } from '../types.js';
import { hmacOf, openAppSecrets, sealAppSecrets, verifyPossessionSignature, type AppParams } from './keys.js';

/**
 * The app authenticator (the Sécur'Pass role). One approval proves two elements: possession (the
 * installation's P-256 key signed the payload) and knowledge (the HMAC under the PIN-unlocked key is
 * right) — or inherence instead of knowledge, with the platform's biometric key. The payload binds the
 * operation's link hash, the approval's nonce, the number picked and the device's counter, which must
 * move forward: it is written with the attempt's outcome, so a replayed approval is refused.
 *
 * A wrong PIN is only visible here: the device cannot tell, and the failure counts like any other.
 */
export const appMethod: AuthMethod<{ biometricOk: boolean }> = {
  kind: 'app',
  category: 'possession',
  multiple: false,
  enrolledCategories: ['possession', 'knowledge'],
  proofCategories: (proof): ElementCategory[] => ['possession', proof.app?.biometric ? 'inherence' : 'knowledge'],

  // The biometric assertion's check is asynchronous (and the slowest part): before any lock.
  async precheck(deps, authenticator, proof, operation) {
    const app = proof.app;
    if (!app?.biometric) return { biometricOk: false };
    const params = authenticator?.params as unknown as AppParams | undefined;
    const bio = params?.biometric;
    if (!authenticator || !bio || !app.expected) return { biometricOk: false };
    const allowed = operation.type === 'login' ? bio.login : bio.operations;
    const rp = webauthnRelyingParty(deps.config);
    const payload = payloadFor(authenticator.id, operation, app);
    const verdict = await verifyWebAuthnAssertion({
      stored: { credentialId: bio.credentialId, publicKey: bio.publicKey, counter: bio.counter, transports: bio.transports },
      response: app.biometric,
      expectedChallenge: createHash('sha256').update(payload).digest('base64url'),
      requireUserVerification: true,
      rpId: rp.rpId,
      origins: rp.origins,
    });
    // A counter that did not move forward with a valid signature is refused (a copied key); the new one
    // is stored after the success.
    if (verdict.ok) app.observedBiometricCounter = verdict.newCounter;
    return { biometricOk: allowed && verdict.ok && verdict.userVerified };
  },

  async afterSuccess(_deps, db, authenticator, proof) {
    const counter = proof.app?.observedBiometricCounter;
    if (!counter) return;
    await db
      .updateTable('authenticators')
      .set({ params: sql`jsonb_set(params, '{biometric,counter}', to_jsonb(${counter}::bigint))` as never })
      .where('id', '=', authenticator.id)
      .where(sql<boolean>`(params->'biometric'->>'counter')::bigint < ${counter}`)
      .execute();
  },

  check(ctx, authenticator, proof, pre) {
    const app = proof.app;
    if (!authenticator || !app?.expected || authenticator.id !== proof.authenticatorId) return { ok: false };
    const params = authenticator.params as unknown as AppParams;
    const secrets = openAppSecrets(ctx.deps.sealer, authenticator);
    if (!secrets) return { ok: false };
    const payload = payloadFor(authenticator.id, ctx.operation, app);
    // Every part is checked whatever fails first: equal work.
    const possessionOk = verifyPossessionSignature(params.possessionKey, payload, app.possession);
    const secondOk = app.biometric ? pre?.biometricOk === true : macMatches(hmacOf(secrets.knowledge, payload), app.knowledge);
    const counterOk = Number.isSafeInteger(app.counter) && app.counter > (authenticator.last_used_step ?? 0);
    const numberOk = app.expected.numberMatch === null || app.numberChoice === app.expected.numberMatch;
    if (!(possessionOk && secondOk && counterOk && numberOk)) return { ok: false };
    // A PIN change: the new knowledge key is written with this success, over the old one only.
    const rekey = app.expected.newKnowledgeKey
      ? {
          secretSealed: sealAppSecrets(ctx.deps.sealer, authenticator.id, {
            ...secrets,
            knowledge: app.expected.newKnowledgeKey,
            pinChanges: (secrets.pinChanges ?? 0) + 1,
          }),
        }
      : {};
    return { ok: true, change: { lastUsedStep: app.counter, ...rekey } };
  },
};

/** The payload the device must have signed, built from the server's own copy of the operation. */
export function payloadFor(
  authenticatorId: string,
  operation: { id: string; link_hash: string },
  app: AppApprovalProof,
  decision: 'approve' | 'refuse' = 'approve',
): Uint8Array {
  return approvalPayload({
    authenticatorId,
    approvalId: app.approvalId,
    operationId: operation.id,
    linkHash: operation.link_hash,
    nonce: app.expected?.nonce ?? '',
    counter: app.counter,
    decision,
    numberChoice: app.numberChoice ?? null,
  });
}

function macMatches(expected: Buffer, given: string | undefined): boolean {
  if (typeof given !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(given)) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(expected, Buffer.from(given, 'base64url'));
}

/**
 * Offline mode: the customer types the two 8-digit groups the app computed from the QR code's
 * server-signed operation (possession with the offline key, knowledge with the PIN-unlocked key). The
 * challenge row is consumed under the customer's lock: each QR code answers once.
 */
export const appOfflineMethod: AuthMethod = {
  kind: 'app_offline',
  authenticatorKind: 'app',
  category: 'possession',
  multiple: false,
  enrolledCategories: ['possession', 'knowledge'],
  proofCategories: () => ['possession', 'knowledge'],

  async verify(ctx, authenticator, proof) {
    const code = /^(\d{8})-?(\d{8})$/.exec((proof.code ?? '').trim());
    if (!authenticator || !code) return false;
    const now = ctx.now;
    const challenges = await ctx.tx
      .selectFrom('app_offline_challenges')
      .selectAll()
      .where('operation_id', '=', ctx.operation.id)
      .where('authenticator_id', '=', authenticator.id)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .execute();
    const secrets = openAppSecrets(ctx.deps.sealer, authenticator);
    if (!secrets) return false;
    for (const c of challenges) {
      const payload = offlinePayload({
        authenticatorId: authenticator.id,
        challengeId: c.id,
        operationId: ctx.operation.id,
        linkHash: ctx.operation.link_hash,
        nonce: c.nonce,
      });
      const possession = truncateToDigits(hmacOf(secrets.offline, payload));
      const knowledge = truncateToDigits(hmacOf(secrets.knowledge, payload));
      if (safeEqual(possession, code[1]!) && safeEqual(knowledge, code[2]!)) {
        await ctx.tx
          .updateTable('app_offline_challenges')
          .set({ used_at: now })
          .where('id', '=', c.id)
          .where('used_at', 'is', null)
          .execute();
        return true;
      }
    }
    return false;
  },
};
