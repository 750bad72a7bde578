import {
  generateRegistrationOptions,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { sql } from 'kysely';
import { Conflict, TooManyRequests, Unprocessable } from '../core/errors.js';
import type { OperationData } from '../core/operations.js';
import { requireChallengeOf, verifyWebAuthnRegistration } from '../methods/webauthn/assertion.js';
import {
  assertionOptions,
  consumeChallenge,
  issueChallenge,
  WEBAUTHN_CHALLENGE_TTL_MS,
  webauthnRelyingParty,
} from '../methods/webauthn/challenges.js';
import type { StoredWebAuthnParams } from '../methods/webauthn/index.js';
import type { Services } from '../context.js';
import type { Db } from '../store/db.js';
import { lockSecurityState } from '../store/security-state.js';
import {
  authenticatorView,
  bootstrapClosed,
  insertAuthenticator,
  recordAdded,
  underStepUp,
  type AuthenticatorView,
} from './authenticators.js';
import { findCustomer } from './customers.js';
import { assertPending, findOperation } from './operations.js';

/**
 * Passkeys and security keys: the two ceremonies around `methods/webauthn`. Registration options are
 * issued under the same step-up rule as any new means of authentication (`underStepUp`): the single-use
 * registration challenge they carry is what lets the browser's answer bind the key, once, within 5
 * minutes. Assertion options are issued per operation, their challenge derived from its link hash; the
 * assertion itself goes through `POST /v1/operations/{id}/authenticate` like every other proof.
 */

/** Several pending assertion requests per operation are normal (a retry, a second tab); hundreds are not. */
const MAX_CHALLENGES_PER_OPERATION = 20;
const MAX_REGISTRATIONS_PER_HOUR = 30;

export interface RegistrationOptionsInput {
  rpId: string;
  customerId: string;
  authenticationCode?: string | undefined;
  label?: string | undefined;
  authenticatorAttachment?: 'platform' | 'cross-platform' | undefined;
  residentKey?: 'discouraged' | 'preferred' | 'required' | undefined;
}

/**
 * Options for `navigator.credentials.create()` (give them to `startRegistration`). User verification is
 * required: a passkey then proves two elements in one gesture.
 *
 * @example
 * const options = await webauthnRegistrationOptions(s, { rpId, customerId, authenticationCode });
 * // browser: const response = await startRegistration({ optionsJSON: options });
 */
export async function webauthnRegistrationOptions(
  s: Services,
  c: RegistrationOptionsInput,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const customer = await findCustomer(s.db, c.customerId);
  const rp = webauthnRelyingParty(s.config);
  return underStepUp(s, c, 'add', 'webauthn', async (tx, now, bootstrap) => {
    const recent = await tx
      .selectFrom('webauthn_challenges')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('customer_id', '=', c.customerId)
      .where('purpose', '=', 'register')
      .where('created_at', '>', new Date(now.getTime() - 3600_000))
      .executeTakeFirstOrThrow();
    if (Number(recent.n) >= MAX_REGISTRATIONS_PER_HOUR) {
      throw new TooManyRequests('ERR_TOO_MANY_CHALLENGES', 'Too many passkey registrations started in the last hour: try again later.');
    }
    const existing = await credentialsOf(tx, c.customerId, ['active', 'suspended', 'pending']);
    const challenge = await issueChallenge(tx, {
      customerId: c.customerId,
      purpose: 'register',
      now,
      // Registration challenges serve other ceremonies too (the app's biometric key): this one binds an authenticator.
      params: { for: 'authenticator', label: c.label ?? null, bootstrap },
    });
    return generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.rpId,
      // Opaque and stable: the customer's id, never a name or an e-mail address.
      userID: new TextEncoder().encode(customer.id),
      userName: customer.external_ref,
      userDisplayName: customer.display_name,
      challenge: Buffer.from(challenge, 'base64url'),
      timeout: WEBAUTHN_CHALLENGE_TTL_MS,
      attestationType: s.config.webauthn.attestation,
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransport[] | undefined })),
      authenticatorSelection: {
        residentKey: c.residentKey ?? 'preferred',
        userVerification: 'required',
        ...(c.authenticatorAttachment ? { authenticatorAttachment: c.authenticatorAttachment } : {}),
      },
    });
  });
}

/**
 * Binds the key that answered a registration challenge: active at once, the ceremony (with user
 * verification) being its first proof. Refused with a 422 that says why: wrong or used challenge,
 * invalid response, missing attestation, or a model outside the bank's allow-list.
 */
export async function registerWebAuthn(
  s: Services,
  c: { rpId: string; customerId: string; response: Record<string, unknown>; label?: string | undefined },
): Promise<AuthenticatorView> {
  await findCustomer(s.db, c.customerId);
  const challenge = requireChallengeOf(c.response, 'response/clientDataJSON');
  const now = s.clock.now();
  const pending = await s.db
    .selectFrom('webauthn_challenges')
    .select(['id', 'params'])
    .where('challenge', '=', challenge)
    .where('customer_id', '=', c.customerId)
    .where('purpose', '=', 'register')
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!pending || (pending.params as { for?: string }).for !== 'authenticator') throw challengeGone();
  const rp = webauthnRelyingParty(s.config);
  const registered = await verifyWebAuthnRegistration({
    response: c.response,
    expectedChallenge: challenge,
    requireUserVerification: true,
    rpId: rp.rpId,
    origins: rp.origins,
  });
  const refusal = !registered
    ? new Unprocessable(
        'ERR_WEBAUTHN_REGISTRATION',
        'The passkey or security key could not be verified (origin, user verification or signature): start again.',
      )
    : attestationRefusal(s, registered);
  if (refusal) {
    // A refused answer still uses up its challenge: one ceremony, one try.
    await consumeChallenge(s.db, { challenge, customerId: c.customerId, purpose: 'register', now: s.clock.now() });
    throw refusal;
  }
  const { userVerified: _uv, ...stored } = registered!;
  const params: StoredWebAuthnParams = stored;
  const fromOptions = pending.params as { label?: string | null; bootstrap?: boolean };
  const label = c.label ?? fromOptions.label ?? (params.deviceType === 'multiDevice' ? 'Passkey' : 'Clé de sécurité');
  return s.db.transaction().execute(async (tx) => {
    const at = s.clock.now();
    await lockSecurityState(tx, c.customerId);
    const closed = await bootstrapClosed(tx, s, c.customerId, 'webauthn', fromOptions);
    if (closed) throw closed;
    if (!(await consumeChallenge(tx, { challenge, customerId: c.customerId, purpose: 'register', now: at }))) throw challengeGone();
    const taken = await tx
      .selectFrom('authenticators')
      .select('id')
      .where('kind', '=', 'webauthn')
      .where('status', '!=', 'revoked')
      .where(sql<string>`params->>'credentialId'`, '=', params.credentialId)
      .executeTakeFirst();
    if (taken) throw new Conflict('ERR_WEBAUTHN_ALREADY_REGISTERED', 'This passkey or security key is already registered.');
    const row = await insertAuthenticator(tx, {
      customerId: c.customerId,
      kind: 'webauthn',
      label,
      status: 'active',
      now: at,
      params: params as unknown as Record<string, unknown>,
    });
    await recordAdded(tx, c, row, at, fromOptions.bootstrap === true);
    return authenticatorView(row);
  });
}

function attestationRefusal(s: Services, r: { aaguid: string; attestationFormat: string }): Unprocessable | null {
  const policy = s.config.webauthn;
  if (policy.attestation === 'direct' && r.attestationFormat === 'none') {
    return new Unprocessable(
      'ERR_WEBAUTHN_ATTESTATION_REQUIRED',
      'This bank requires an attestation of the authenticator model, and this one gave none.',
      { attestationFormat: r.attestationFormat },
    );
  }
  if (policy.allowedAaguids && !policy.allowedAaguids.includes(r.aaguid)) {
    return new Unprocessable(
      'ERR_WEBAUTHN_MODEL_NOT_ALLOWED',
      'This model of passkey or security key is not accepted by the bank: use one from its list of approved authenticators.',
      { aaguid: r.aaguid },
    );
  }
  return null;
}

const challengeGone = () =>
  new Unprocessable('ERR_WEBAUTHN_CHALLENGE', 'This registration challenge is unknown, already used or expired: ask for new options.', {
    field: 'response/clientDataJSON',
  });

/** What the customer approves, for the page that asks for the passkey to show it. */
export interface OperationDisplay {
  id: string;
  type: string;
  expiresAt: string;
  amount?: { value: number; currency: string };
  payee?: { name: string; iban?: string; merchantId?: string };
  payeeCount?: number;
}

/**
 * Options for `navigator.credentials.get()` to approve one operation: the challenge is derived from its
 * link hash and accepted once, within 5 minutes; the allow list is the customer's active keys.
 *
 * @example
 * const { options, operation } = await webauthnAssertionOptions(s, rpId, operationId);
 * // browser: const credential = await startAuthentication({ optionsJSON: options });
 * // then POST /v1/operations/{id}/authenticate { factors: [{ method: 'webauthn', credential }] }
 */
export async function webauthnAssertionOptions(
  s: Services,
  rpId: string,
  operationId: string,
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; operation: OperationDisplay }> {
  const op = await findOperation(s.db, rpId, operationId);
  const now = s.clock.now();
  await assertPending(s.db, op, now);
  const credentials = await credentialsOf(s.db, op.customer_id, ['active']);
  if (!credentials.length) {
    throw new Unprocessable('ERR_NO_WEBAUTHN_CREDENTIAL', 'The customer has no active passkey or security key.');
  }
  const issued = await s.db
    .selectFrom('webauthn_challenges')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('operation_id', '=', op.id)
    .executeTakeFirstOrThrow();
  if (Number(issued.n) >= MAX_CHALLENGES_PER_OPERATION) {
    throw new TooManyRequests('ERR_TOO_MANY_CHALLENGES', 'Too many passkey requests for this operation: create a new one.');
  }
  const challenge = await issueChallenge(s.db, {
    customerId: op.customer_id,
    purpose: 'authenticate',
    now,
    operation: { id: op.id, linkHash: op.link_hash },
  });
  const options = await assertionOptions(s.config, challenge, credentials);
  return { options, operation: display(op.id, op.type, new Date(op.expires_at), op.data as unknown as OperationData) };
}

function display(id: string, type: string, expiresAt: Date, data: OperationData): OperationDisplay {
  const d = data as {
    amount?: { value: number; currency: string };
    total?: { value: number; currency: string };
    payee?: { name: string; iban?: string; merchantId?: string };
    payees?: unknown[];
  };
  const amount = d.amount ?? d.total;
  return {
    id,
    type,
    expiresAt: expiresAt.toISOString(),
    ...(amount ? { amount: { value: amount.value, currency: amount.currency } } : {}),
    ...(d.payee
      ? {
          payee: {
            name: d.payee.name,
            ...(d.payee.iban ? { iban: d.payee.iban } : {}),
            ...(d.payee.merchantId ? { merchantId: d.payee.merchantId } : {}),
          },
        }
      : {}),
    ...(d.payees ? { payeeCount: d.payees.length } : {}),
  };
}

async function credentialsOf(db: Db, customerId: string, statuses: string[]): Promise<StoredWebAuthnParams[]> {
  const rows = await db
    .selectFrom('authenticators')
    .select('params')
    .where('customer_id', '=', customerId)
    .where('kind', '=', 'webauthn')
    .where('status', 'in', statuses)
    .orderBy('created_at')
    .execute();
  return rows.map((r) => r.params as unknown as StoredWebAuthnParams);
}
