import { generateRegistrationOptions } from '@simplewebauthn/server';
import type { DeviceInfo, PendingApproval } from '../../sdk/device/src/device.js';
import { sql } from 'kysely';
import { Conflict, Unprocessable } from '../core/errors.js';
import { maskPhone } from '../channels/index.js';
import { newId } from '../crypto/tokens.js';
import { openAppSecrets, type AppParams } from '../methods/app/keys.js';
import { challengeOf, verifyWebAuthnRegistration } from '../methods/webauthn/assertion.js';
import { consumeChallenge, issueChallenge, webauthnRelyingParty } from '../methods/webauthn/challenges.js';
import type { Services } from '../context.js';
import { retireAppInstallations } from '../store/app-installations.js';
import { appendAudit, customerChain } from '../store/audit.js';
import { enqueueEvent } from '../store/outbox.js';
import type { AuthenticatorRow } from '../store/schema.js';
import { lockSecurityState } from '../store/security-state.js';
import { approve, insertApproval, type ConfirmationKind, type Decision } from './app-approvals.js';
import { findCustomer, iso } from './customers.js';
import { createOperation } from './operations.js';

/**
 * What the installation itself manages: its settings (biometrics for logins, for operations, both or
 * neither), its PIN, its push subscription, and closing it — after which SMS codes take over.
 */

/** What the app shows about itself: the SDK's `DeviceInfo`, one definition for both sides. */
export type DeviceView = DeviceInfo;

export async function deviceView(s: Services, device: AuthenticatorRow): Promise<DeviceView> {
  const fresh = await s.db.selectFrom('authenticators').selectAll().where('id', '=', device.id).executeTakeFirstOrThrow();
  const params = fresh.params as unknown as AppParams;
  const customer = await findCustomer(s.db, fresh.customer_id);
  return {
    authenticatorId: fresh.id,
    status: fresh.status,
    deviceName: params.deviceName,
    customer: { displayName: customer.display_name },
    activatedAt: iso(fresh.activated_at),
    trusted: !!params.trustedAt,
    biometrics: { enrolled: !!params.biometric, login: !!params.biometric?.login, operations: !!params.biometric?.operations },
    pinChanges: openAppSecrets(s.sealer, fresh)?.pinChanges ?? 0,
  };
}

/** Options for registering the platform's biometric key (a WebAuthn credential with user verification). */
export async function biometricRegistrationOptions(s: Services, device: AuthenticatorRow) {
  const rp = webauthnRelyingParty(s.config);
  const customer = await findCustomer(s.db, device.customer_id);
  const challenge = await issueChallenge(s.db, {
    customerId: device.customer_id,
    purpose: 'register',
    now: s.clock.now(),
    params: { appAuthenticatorId: device.id },
  });
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.rpId,
    userID: new TextEncoder().encode(device.id),
    userName: customer.display_name,
    challenge: Buffer.from(challenge, 'base64url'),
    attestationType: 'none',
    authenticatorSelection: { authenticatorAttachment: 'platform', userVerification: 'required', residentKey: 'discouraged' },
    timeout: 120_000,
  });
}

export async function enrolBiometrics(
  s: Services,
  device: AuthenticatorRow,
  body: { credential: Record<string, unknown>; login: boolean; operations: boolean; confirmation: PinConfirmation },
): Promise<{ credentialId: string }> {
  const rp = webauthnRelyingParty(s.config);
  const challenge = challengeOf(body.credential);
  const row = challenge
    ? await consumeChallenge(s.db, { challenge, customerId: device.customer_id, purpose: 'register', now: s.clock.now() })
    : undefined;
  const cred =
    row && (row.params as { appAuthenticatorId?: string }).appAuthenticatorId === device.id
      ? await verifyWebAuthnRegistration({
          response: body.credential,
          expectedChallenge: row.challenge,
          requireUserVerification: true,
          rpId: rp.rpId,
          origins: rp.origins,
        })
      : null;
  if (!cred || !cred.userVerified) {
    throw new Unprocessable(
      'ERR_BIOMETRIC_REGISTRATION',
      'The biometric key could not be registered (expired request, or no user verification): try again.',
    );
  }
  // The phone's own authenticator only, of an accepted model: not a security key brought by someone else.
  if (body.credential.authenticatorAttachment !== 'platform') {
    throw new Unprocessable('ERR_BIOMETRIC_NOT_PLATFORM', "Biometrics are the phone's own: a roaming key cannot be registered here.");
  }
  const allowed = s.config.webauthn.allowedAaguids;
  if (allowed && !allowed.includes(cred.aaguid)) {
    throw new Unprocessable('ERR_WEBAUTHN_MODEL_NOT_ALLOWED', 'This authenticator model is not accepted by the bank.');
  }
  const taken = await s.db
    .selectFrom('authenticators')
    .select('id')
    .where('status', '!=', 'revoked')
    .where((eb) =>
      eb.or([
        eb(sql`params->>'credentialId'`, '=', cred.credentialId),
        eb(sql`params->'biometric'->>'credentialId'`, '=', cred.credentialId),
      ]),
    )
    .executeTakeFirst();
  if (taken) throw new Conflict('ERR_WEBAUTHN_CREDENTIAL_TAKEN', 'This key is already registered.');
  // The current PIN confirms (counted if wrong): the phone alone cannot add a way to approve.
  await approve(s, device, body.confirmation.approvalId, confirm(body.confirmation), { kind: 'app_biometric' });
  const biometric = {
    credentialId: cred.credentialId,
    publicKey: cred.publicKey,
    counter: cred.counter,
    transports: cred.transports,
    login: body.login,
    operations: body.operations,
  };
  await updateParams(s, device, { biometric }, 'app.biometrics_enrolled', { login: body.login, operations: body.operations });
  return { credentialId: cred.credentialId };
}

/**
 * Biometrics for logins, operations, both or neither. Turning a use on is approved with the PIN (the phone
 * alone must not be able to stop asking for it); turning one off is protective and needs nothing.
 */
export async function setBiometricUses(
  s: Services,
  device: AuthenticatorRow,
  uses: { login: boolean; operations: boolean; confirmation?: PinConfirmation | undefined },
): Promise<DeviceView> {
  const params = device.params as unknown as AppParams;
  if (!params.biometric && (uses.login || uses.operations)) {
    throw new Conflict('ERR_BIOMETRICS_NOT_ENROLLED', 'Enrol biometrics on this device first.');
  }
  if (params.biometric) {
    const enabling = (uses.login && !params.biometric.login) || (uses.operations && !params.biometric.operations);
    if (enabling) {
      if (!uses.confirmation) {
        throw new Unprocessable('ERR_PIN_REQUIRED', 'Turning biometrics on is confirmed with your PIN.', { field: 'confirmation' });
      }
      await approve(s, device, uses.confirmation.approvalId, confirm(uses.confirmation), { kind: 'app_biometric' });
    }
    const next = { login: uses.login, operations: uses.operations };
    await updateParams(s, device, { biometric: { ...params.biometric, ...next } }, 'app.biometrics_changed', next);
  }
  return deviceView(s, device);
}

async function updateParams(
  s: Services,
  device: AuthenticatorRow,
  patch: Partial<AppParams>,
  auditType: string,
  auditData: Record<string, unknown>,
) {
  await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await tx
      .updateTable('authenticators')
      .set({ params: sql`params || ${JSON.stringify(patch)}::jsonb` as never })
      .where('id', '=', device.id)
      .execute();
    await appendAudit(tx, customerChain(device.customer_id), now, {
      type: auditType,
      actor: `customer:${device.customer_id}`,
      data: { authenticatorId: device.id, ...auditData },
    });
  });
}

/** A confirmation with the current PIN is asked for each kind of change; this is the operation it approves. */
const CONFIRMATIONS: Record<ConfirmationKind, { action: 'regenerate' | 'add' }> = {
  app: { action: 'regenerate' },
  app_biometric: { action: 'add' },
};

/**
 * A change of the installation's own elements (the PIN, biometrics) is approved with the current PIN,
 * through the normal SCA attempt: a wrong PIN is a failed attempt, counted toward the block. Step 1: the
 * operation to sign, not listed to the app (it asked for it).
 */
export async function startPinConfirmation(s: Services, device: AuthenticatorRow, kind: ConfirmationKind): Promise<PendingApproval> {
  const params = device.params as unknown as AppParams;
  const op = await createOperation(s, params.rpId, {
    customerId: device.customer_id,
    data: { type: 'manage_authenticators', action: CONFIRMATIONS[kind].action, kind } as never,
  });
  const now = s.clock.now();
  const id = newId();
  const expiresAt = new Date(op.expiresAt);
  const nonce = await insertApproval(s.db, {
    id,
    operationId: op.id,
    customerId: device.customer_id,
    authenticatorId: device.id,
    status: 'pin_confirmation',
    numberMatch: null,
    now,
    expiresAt,
  });
  return {
    approvalId: id,
    operationId: op.id,
    data: op.data as PendingApproval['data'],
    linkHash: op.linkHash,
    nonce,
    numberOptions: null,
    requester: 'Sésame',
    createdAt: now.toISOString(),
    expiresAt: op.expiresAt,
  };
}

/** The current PIN's confirmation, as the app signs it. */
export interface PinConfirmation {
  approvalId: string;
  counter: number;
  possession: string;
  knowledge: string;
}

const confirm = (c: PinConfirmation): Decision => ({ ...c, decision: 'approve' });

/**
 * Step 2 of a PIN change: the confirmation with the old PIN and the new knowledge key (wrapped under the
 * new PIN on the device). The new key is written in the same statement as the confirmation's success,
 * and only over the key it was checked against.
 */
export async function changePin(
  s: Services,
  device: AuthenticatorRow,
  body: PinConfirmation & { newKnowledgeKey: string },
): Promise<{ status: 'changed' }> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(body.newKnowledgeKey)) {
    throw new Unprocessable('ERR_DEVICE_KEY', 'newKnowledgeKey must be 32 bytes in base64url.', { field: 'newKnowledgeKey' });
  }
  await approve(s, device, body.approvalId, confirm(body), { kind: 'app', newKnowledgeKey: body.newKnowledgeKey });
  // The change is committed (and audited as its operation's authorisation): an error here must not tell
  // the app it failed, or it would keep the old key.
  await s.db
    .transaction()
    .execute((tx) =>
      appendAudit(tx, customerChain(device.customer_id), s.clock.now(), {
        type: 'app.pin_changed',
        actor: `customer:${device.customer_id}`,
        data: { authenticatorId: device.id },
      }),
    )
    .catch((err: unknown) => console.warn(`PIN change of ${device.id}: app.pin_changed not audited (${(err as Error).name})`));
  return { status: 'changed' };
}

export async function subscribePush(
  s: Services,
  device: AuthenticatorRow,
  sub: { endpoint: string; keys: { p256dh: string; auth: string } },
): Promise<void> {
  // The server POSTs to this URL at every approval request: only to a known push service, never to an
  // address of the bank's own network (server-side request forgery).
  const host = new URL(sub.endpoint).hostname.toLowerCase();
  if (!s.config.app.pushHosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) : host === h))) {
    throw new Unprocessable(
      'ERR_PUSH_ENDPOINT',
      `Push subscriptions are accepted for these push services only: ${s.config.app.pushHosts.join(', ')}.`,
      {
        field: 'endpoint',
      },
    );
  }
  const now = s.clock.now();
  const keysSealed = s.sealer.seal(JSON.stringify(sub.keys), `push:${device.id}`);
  await s.db
    .insertInto('app_push_subscriptions')
    .values({ authenticator_id: device.id, endpoint: sub.endpoint, keys_sealed: keysSealed, created_at: now })
    .onConflict((oc) => oc.column('authenticator_id').doUpdateSet({ endpoint: sub.endpoint, keys_sealed: keysSealed, created_at: now }))
    .execute();
}

/** Closing the app authenticator: revoked, and the customer falls back to SMS codes on the secure number. */
export async function closeDevice(
  s: Services,
  device: AuthenticatorRow,
): Promise<{ fallback: { method: 'sms' | 'none'; destination: string | null } }> {
  return s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await lockSecurityState(tx, device.customer_id);
    await tx.updateTable('authenticators').set({ status: 'revoked', revoked_at: now }).where('id', '=', device.id).execute();
    await retireAppInstallations(tx, [device.id]);
    const sms = await tx
      .selectFrom('authenticators')
      .select('params')
      .where('customer_id', '=', device.customer_id)
      .where('kind', '=', 'sms')
      .where('status', '=', 'active')
      .executeTakeFirst();
    const data = { customerId: device.customer_id, authenticatorId: device.id, kind: 'app', category: 'possession', reason: 'closed' };
    await appendAudit(tx, customerChain(device.customer_id), now, { type: 'app.closed', actor: `customer:${device.customer_id}`, data });
    await enqueueEvent(tx, now, { type: 'authenticator.removed', rpId: null, data });
    const phone = (sms?.params as { phone?: string } | undefined)?.phone ?? null;
    return { fallback: { method: sms ? ('sms' as const) : ('none' as const), destination: phone ? maskPhone(phone) : null } };
  });
}
