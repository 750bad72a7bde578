import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { sql } from 'kysely';
import { SesameError, Unprocessable } from '../core/errors.js';
import { linkHash, normaliseOperationData } from '../core/dynamic-linking.js';
import { requireChallengeOf } from '../methods/webauthn/assertion.js';
import { assertionOptions, issueChallenge, WEBAUTHN_CHALLENGE_TTL_MS } from '../methods/webauthn/challenges.js';
import type { Services } from '../context.js';
import { authenticateOperation, type AuthenticateResult } from './authenticate.js';
import { cancelOperation, createOperation } from './operations.js';

/**
 * Passkey login without a username (a discoverable credential): the browser offers the customer's
 * passkeys for this site, and the one chosen names its customer. The bank's page asks for options before
 * anyone is known; the assertion then becomes an ordinary login: a login operation is created for the
 * customer the credential belongs to, the challenge is bound to it, and the assertion is checked and
 * counted by `POST /v1/operations/{id}/authenticate`'s own path (user verification required: possession
 * + inherence in one gesture, failures counted, blocks enforced, a session and an authentication code on
 * success).
 */

/** A passkey no active authenticator matches (or whose user handle is not its customer's): nobody to log in. */
export class PasskeyNotRecognised extends SesameError {
  constructor() {
    super('ERR_PASSKEY_NOT_RECOGNISED', 401, 'This passkey is not registered with the bank, or no longer active.');
  }
}

const LOGIN = normaliseOperationData({ type: 'login' });

/**
 * Options for `startAuthentication()` with no allow list (the browser lists the site's passkeys), user
 * verification required; the challenge is single-use, lives 5 minutes and is derived from a login's link hash.
 *
 * @example
 * const { options } = await passkeyLoginOptions(s, rpId);
 * // browser: const credential = await startAuthentication({ optionsJSON: options });
 * // back-end: await passkeyLogin(s, rpId, { credential });
 */
export async function passkeyLoginOptions(
  s: Services,
  rpId: string,
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; expiresAt: string }> {
  const now = s.clock.now();
  const challenge = await issueChallenge(s.db, {
    customerId: null,
    rpId,
    purpose: 'discover',
    now,
    operation: { id: null, linkHash: linkHash(LOGIN) },
  });
  const options = await assertionOptions(s.config, challenge, []);
  const expiresAt = new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_MS);
  return { options, expiresAt: expiresAt.toISOString() };
}

export interface PasskeyLoginResult extends AuthenticateResult {
  customerId: string;
  operationId: string;
}

/**
 * Logs in whoever the passkey belongs to. Refused with 422 ERR_WEBAUTHN_CHALLENGE (unknown, used, expired
 * or another bank's challenge), 401 ERR_PASSKEY_NOT_RECOGNISED (no active passkey with this id, or a user
 * handle that is not its customer's), and otherwise as any login attempt: 401 ERR_AUTHENTICATION_FAILED
 * (counted for that customer), 423 when the customer is blocked.
 */
export async function passkeyLogin(
  s: Services,
  rpId: string,
  input: { credential: Record<string, unknown>; userAgent?: string | undefined },
): Promise<PasskeyLoginResult> {
  const challenge = requireChallengeOf(input.credential, 'credential/response/clientDataJSON');
  const now = s.clock.now();
  const pending = await s.db
    .selectFrom('webauthn_challenges')
    .select('id')
    .where('challenge', '=', challenge)
    .where('purpose', '=', 'discover')
    .where('rp_id', '=', rpId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!pending) throw challengeGone();

  const key = await s.db
    .selectFrom('authenticators')
    .select(['id', 'customer_id'])
    .where('kind', '=', 'webauthn')
    .where('status', '=', 'active')
    .where(sql<string>`params->>'credentialId'`, '=', String(input.credential.id))
    .executeTakeFirst();
  if (!key || userHandleOf(input.credential) !== key.customer_id) {
    // One ceremony, one try: the challenge is spent even when the passkey names nobody.
    await s.db.updateTable('webauthn_challenges').set({ used_at: now }).where('id', '=', pending.id).where('used_at', 'is', null).execute();
    throw new PasskeyNotRecognised();
  }

  const op = await createOperation(s, rpId, { customerId: key.customer_id, data: LOGIN });
  try {
    // The challenge now belongs to this customer's login, where the ordinary assertion check consumes it.
    const bound = await s.db
      .updateTable('webauthn_challenges')
      .set({ customer_id: key.customer_id, operation_id: op.id, purpose: 'authenticate' })
      .where('id', '=', pending.id)
      .where('purpose', '=', 'discover')
      .where('used_at', 'is', null)
      .where('expires_at', '>', s.clock.now())
      .returning('id')
      .executeTakeFirst();
    // Another request answered with this challenge first.
    if (!bound) throw challengeGone();
    const result = await authenticateOperation(s, rpId, op.id, {
      factors: [{ method: 'webauthn', authenticatorId: key.id, credential: input.credential }],
      userAgent: input.userAgent,
    });
    return { customerId: key.customer_id, operationId: op.id, ...result };
  } catch (err) {
    // Refused for whatever reason (the failure counted, the challenge spent or taken), the login created
    // for it is of no further use to anyone (a new try asks for new options): it does not stay pending.
    await cancelOperation(s, rpId, op.id).catch(() => undefined);
    throw err;
  }
}

/** The user handle the authenticator returned, decoded (the customer id it was registered with), or null. */
function userHandleOf(credential: Record<string, unknown>): string | null {
  const response = credential.response as { userHandle?: unknown } | undefined;
  const handle = response?.userHandle;
  if (typeof handle !== 'string' || !/^[A-Za-z0-9_-]+$/.test(handle)) return null;
  return Buffer.from(handle, 'base64url').toString('utf8');
}

const challengeGone = () =>
  new Unprocessable('ERR_WEBAUTHN_CHALLENGE', 'This passkey login challenge is unknown, already used or expired: ask for new options.', {
    field: 'credential/response/clientDataJSON',
  });
