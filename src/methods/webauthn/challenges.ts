import { createHash, randomBytes } from 'node:crypto';
import {
  generateAuthenticationOptions,
  type AuthenticatorTransport,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { Config } from '../../config.js';
import { newId } from '../../crypto/tokens.js';
import type { Db } from '../../store/db.js';

/** A WebAuthn challenge lives 5 minutes, and answers one ceremony. */
export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60 * 1000;

/** The relying party the browser checks: RP ID and origins, defaulting to the public URL's. */
export function webauthnRelyingParty(config: Config): { rpId: string; origins: string[]; name: string } {
  const url = new URL(config.publicUrl);
  return {
    rpId: config.webauthn.rpId ?? url.hostname,
    origins: config.webauthn.origins ?? [url.origin],
    name: config.totp.issuer,
  };
}

/**
 * Dynamic linking for WebAuthn: the challenge signed is SHA-256 of the operation's link hash and a fresh
 * nonce, so an assertion approves this amount and this payee, once.
 */
export function operationChallenge(linkHash: string, nonce: string): string {
  return createHash('sha256').update(linkHash, 'utf8').update(':').update(Buffer.from(nonce, 'base64url')).digest('base64url');
}

/** One issuance in a hundred also deletes the expired challenges. */
const PURGE_CHANCE = 0.01;

/**
 * Stores a fresh single-use challenge and returns it (base64url). A passkey login's (`discover`) is issued
 * to a relying party before anyone is known, for a login operation yet to be created.
 */
export async function issueChallenge(
  db: Db,
  c: {
    customerId: string | null;
    rpId?: string;
    purpose: 'register' | 'authenticate' | 'discover';
    now: Date;
    /** An assertion's operation (none yet for a passkey login) and its link hash; none for a registration. */
    operation?: { id: string | null; linkHash: string };
    params?: Record<string, unknown>;
  },
): Promise<string> {
  const nonce = randomBytes(32).toString('base64url');
  const challenge = c.operation ? operationChallenge(c.operation.linkHash, nonce) : createHash('sha256').update(nonce).digest('base64url');
  await db
    .insertInto('webauthn_challenges')
    .values({
      id: newId(),
      customer_id: c.customerId,
      rp_id: c.rpId ?? null,
      operation_id: c.operation?.id ?? null,
      purpose: c.purpose,
      challenge,
      nonce,
      params: JSON.stringify(c.params ?? {}),
      created_at: c.now,
      expires_at: new Date(c.now.getTime() + WEBAUTHN_CHALLENGE_TTL_MS),
      used_at: null,
    })
    .execute();
  // Anyone opening a bank's login page may ask for one: unanswered and used ones go once expired, now and
  // then (an expired challenge is refused like an unknown one, so nothing needs them afterwards).
  if (Math.random() < PURGE_CHANCE) await db.deleteFrom('webauthn_challenges').where('expires_at', '<', c.now).execute();
  return challenge;
}

/** Options for `startAuthentication()` over a challenge: user verification required; no allow list lets the browser offer its passkeys. */
export function assertionOptions(
  config: Config,
  challenge: string,
  allow: { credentialId: string; transports?: string[] | undefined }[],
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: webauthnRelyingParty(config).rpId,
    challenge: Buffer.from(challenge, 'base64url'),
    timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    userVerification: 'required',
    allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransport[] | undefined })),
  });
}

/**
 * Marks a challenge used, if it is this customer's, for this purpose (and operation), unused and not
 * expired. The UPDATE is the check: two requests racing for one challenge get it once.
 */
export async function consumeChallenge(
  db: Db,
  c: { challenge: string; customerId: string; purpose: 'register' | 'authenticate'; operationId?: string; now: Date },
) {
  let q = db
    .updateTable('webauthn_challenges')
    .set({ used_at: c.now })
    .where('challenge', '=', c.challenge)
    .where('customer_id', '=', c.customerId)
    .where('purpose', '=', c.purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', c.now);
  if (c.operationId) q = q.where('operation_id', '=', c.operationId);
  return q.returning(['id', 'challenge', 'nonce', 'params', 'operation_id']).executeTakeFirst();
}
