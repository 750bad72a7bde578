import { randomBytes, randomInt } from 'node:crypto';
import QRCode from 'qrcode';
import { appBranchSms, appConfirmationSms } from '../channels/app-texts.js';
import { maskPhone } from '../channels/index.js';
import { activationExpiry, eligibilityGaps, type EligibilityGap } from '../core/app-lifecycle.js';
import { Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable } from '../core/errors.js';
import { keyedHash, newId, safeEqual } from '../crypto/tokens.js';
import { parsePossessionKey, sealAppSecrets, type AppParams } from '../methods/app/keys.js';
import type { Services } from '../context.js';
import { retireAppInstallations } from '../store/app-installations.js';
import { appendAudit, customerChain } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { enqueueEvent } from '../store/outbox.js';
import type { CustomerRow } from '../store/schema.js';
import { lockSecurityState } from '../store/security-state.js';
import { activeApp } from './app-approvals.js';
import { attestationVerdict, type AttestationEvidence } from './app-attestation.js';
import { insertAuthenticator } from './authenticators.js';
import { findCustomer, iso } from './customers.js';
import { queueMessage } from './messages.js';
import { inCoolingOff } from './secure-phone.js';
import { assertCheckPossibleFrom, type IdentityCheck } from './security.js';

/**
 * Activating the app authenticator (seed 003): self-service from web banking (QR code + activation code,
 * confirmed by a code sent to the secure mobile), or initiated by an advisor face to face in a branch
 * (the customer receives an SMS and has 24 h to finish on the phone). Transfer to a new phone and
 * reinstall follow the same path; completing revokes the previous installation. Subscribing also
 * subscribes SMS codes on the secure number, so closing the app falls back to them.
 */

export interface EligibilityView {
  customerId: string;
  eligible: boolean;
  missing: EligibilityGap[];
  delayLiftedAt: string | null;
  hasApp: boolean;
}

const MISSING_TEXT: Record<EligibilityGap, string> = {
  remote_banking: 'a remote-banking subscription',
  secure_phone: 'a secure mobile number',
  card_or_email_72h: 'an active card, or a personal email registered for more than 72 h',
  secure_phone_cooling_off: 'a secure mobile number that has not just changed (wait for the cooling-off to end, or activate in a branch)',
};

const factsOf = (c: CustomerRow, now: Date, coolingOffHours: number) => ({
  remoteBanking: c.remote_banking,
  securePhone: c.mobile_phone,
  hasActiveCard: c.has_active_card,
  email: c.email,
  emailSince: c.email_since ? new Date(c.email_since) : null,
  delayLiftedAt: c.app_delay_lifted_at ? new Date(c.app_delay_lifted_at) : null,
  securePhoneCoolingOff: inCoolingOff(c, now, coolingOffHours),
});

export async function appEligibility(s: Services, customerId: string, channel: 'self' | 'branch' = 'self'): Promise<EligibilityView> {
  const c = await findCustomer(s.db, customerId);
  const now = s.clock.now();
  const missing = eligibilityGaps(factsOf(c, now, s.config.securePhone.coolingOffHours), now, channel, s.config.app);
  const app = await activeApp(s.db, customerId);
  return { customerId, eligible: missing.length === 0, missing, delayLiftedAt: iso(c.app_delay_lifted_at), hasApp: !!app };
}

function assertEligible(view: EligibilityView): void {
  if (view.eligible) return;
  throw new Unprocessable(
    'ERR_NOT_ELIGIBLE',
    `The app cannot be activated yet: the customer needs ${view.missing.map((m) => MISSING_TEXT[m]).join('; and ')}.`,
    { missing: view.missing },
  );
}

export interface ActivationView {
  activationId: string;
  channel: 'self' | 'branch';
  purpose: 'activate' | 'transfer' | 'reinstall';
  /** pending, awaiting_confirmation, initiated (branch), subscribed, expired, cancelled. */
  status: string;
  createdAt: string;
  expiresAt: string;
  subscribedAt: string | null;
  deviceName: string | null;
}

export interface StartedActivation extends ActivationView {
  /** Shown once: typed in the app, or read from the QR code. */
  activationCode: string;
  activationUrl: string;
  qrSvg: string;
}

/** 12 characters from an alphabet without look-alikes (60 bits), grouped by 4. */
function newActivationCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => alphabet[b & 31]!);
  return [chars.slice(0, 4), chars.slice(4, 8), chars.slice(8)].map((g) => g.join('')).join('-');
}

const normaliseCode = (code: string) => code.toUpperCase().replace(/[^A-Z0-9]/g, '');
const codeDigest = (s: Services, code: string) => keyedHash(s.hashKey, 'app-activation', normaliseCode(code));

/** Self-service (from web banking) or branch (an advisor, face to face). Replaces a pending one. */
export async function startAppActivation(
  s: Services,
  c: {
    rpId: string;
    customerId: string;
    channel: 'self' | 'branch';
    purpose?: 'activate' | 'transfer' | 'reinstall' | undefined;
    advisorId?: string;
    locale?: 'fr' | 'en' | undefined;
  },
): Promise<StartedActivation> {
  const eligibility = await appEligibility(s, c.customerId, c.channel);
  assertEligible(eligibility);
  const purpose = c.purpose ?? (eligibility.hasApp ? 'transfer' : 'activate');
  const code = newActivationCode();
  const id = newId();
  const activationUrl = `${s.config.publicUrl}/app/#activate=${code}`;
  const row = await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    const customer = await lockCustomer(tx, c.customerId);
    if (c.channel === 'self') {
      const since = new Date(now.getTime() - 24 * 3_600_000);
      const started = await tx
        .selectFrom('app_activations')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('customer_id', '=', c.customerId)
        .where('channel', '=', 'self')
        .where('created_at', '>', since)
        .executeTakeFirstOrThrow();
      if (Number(started.n) >= s.config.app.activationsPerDay) {
        throw new TooManyRequests(
          'ERR_TOO_MANY_ACTIVATIONS',
          `At most ${s.config.app.activationsPerDay} activations of the app can be started in 24 h: try again tomorrow, or activate it in a branch.`,
        );
      }
    }
    const cancelled = await tx
      .updateTable('app_activations')
      .set({ status: 'cancelled' })
      .where('customer_id', '=', c.customerId)
      .where('status', 'in', ['pending', 'initiated', 'awaiting_confirmation'])
      .returning('authenticator_id')
      .execute();
    await revokeUnconfirmed(
      tx,
      cancelled.flatMap((a) => (a.authenticator_id ? [a.authenticator_id] : [])),
      now,
    );
    const inserted = await tx
      .insertInto('app_activations')
      .values({
        id,
        customer_id: c.customerId,
        rp_id: c.rpId,
        channel: c.channel,
        purpose,
        status: c.channel === 'branch' ? 'initiated' : 'pending',
        code_digest: codeDigest(s, code),
        confirm_hash: null,
        authenticator_id: null,
        advisor_id: c.advisorId ?? null,
        created_at: now,
        expires_at: activationExpiry(c.channel, now, s.config.app),
        completed_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const actor = c.advisorId ? `advisor:${c.advisorId}` : `rp:${c.rpId}`;
    await appendAudit(tx, customerChain(c.customerId), now, {
      type: 'app.activation_started',
      actor,
      data: { activationId: id, channel: c.channel, purpose },
    });
    if (c.channel === 'branch') {
      await queueMessage(tx, s, {
        customerId: c.customerId,
        purpose: 'app:branch-activation',
        now,
        message: {
          kind: 'sms',
          to: customer.mobile_phone as never,
          text: appBranchSms({
            locale: c.locale ?? (customer.locale === 'en' ? 'en' : 'fr'),
            code,
            url: `${s.config.publicUrl}/app/`,
            hours: s.config.app.branchWindowHours,
            brand: s.config.channels.brand,
          }),
        },
      });
    }
    return inserted;
  });
  if (c.channel === 'branch') s.messagesQueued();
  return {
    ...activationView(row, null),
    activationCode: code,
    activationUrl,
    qrSvg: await QRCode.toString(activationUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }),
  };
}

/** Installations registered for an activation that will never be confirmed: revoked (their keys go with it). */
async function revokeUnconfirmed(tx: Db, authenticatorIds: string[], now: Date): Promise<void> {
  if (!authenticatorIds.length) return;
  await tx
    .updateTable('authenticators')
    .set({ status: 'revoked', revoked_at: now })
    .where('id', 'in', authenticatorIds)
    .where('status', '=', 'pending')
    .execute();
}

async function lockCustomer(tx: Db, customerId: string): Promise<CustomerRow> {
  await lockSecurityState(tx, customerId);
  return findCustomer(tx, customerId);
}

function activationView(
  a: {
    id: string;
    channel: 'self' | 'branch';
    purpose: ActivationView['purpose'];
    status: string;
    created_at: Date | string;
    expires_at: Date | string;
    completed_at: Date | string | null;
  },
  deviceName: string | null,
): ActivationView {
  return {
    activationId: a.id,
    channel: a.channel,
    purpose: a.purpose,
    status: a.status,
    createdAt: iso(a.created_at)!,
    expiresAt: iso(a.expires_at)!,
    subscribedAt: a.status === 'subscribed' ? iso(a.completed_at) : null,
    deviceName,
  };
}

/**
 * The customer's activations, newest first. A branch initiation not finished within its window
 * disappears (seed 003: the customer starts again in a branch).
 */
export async function listActivations(s: Services, customerId: string): Promise<ActivationView[]> {
  await findCustomer(s.db, customerId);
  const now = s.clock.now();
  const rows = await s.db
    .selectFrom('app_activations as a')
    .leftJoin('authenticators as au', 'au.id', 'a.authenticator_id')
    .select(['a.id', 'a.channel', 'a.purpose', 'a.status', 'a.created_at', 'a.expires_at', 'a.completed_at', 'au.params'])
    .where('a.customer_id', '=', customerId)
    .where('a.status', '!=', 'cancelled')
    .orderBy('a.created_at', 'desc')
    .limit(20)
    .execute();
  return rows
    .map((r) => ({ ...r, status: r.status !== 'subscribed' && new Date(r.expires_at) <= now ? 'expired' : r.status }))
    .filter((r) => !(r.channel === 'branch' && r.status === 'expired'))
    .map((r) => activationView(r, (r.params as { deviceName?: string } | null)?.deviceName ?? null));
}

export interface DeviceRegistration {
  activationCode: string;
  possessionKey: Record<string, unknown>;
  knowledgeKey: string;
  offlineKey: string;
  deviceName: string;
  platform: string;
  attestation?: AttestationEvidence | undefined;
}

export interface RegisteredDevice {
  activationId: string;
  authenticatorId: string;
  status: 'awaiting_confirmation' | 'active';
  confirmation: { channel: 'sms'; destination: string } | null;
  customer: { displayName: string };
}

/**
 * The app's first call: the activation code, the installation's public key and its two symmetric keys.
 * A self-service activation then waits for the code sent to the secure mobile; a branch one was already
 * announced by SMS to that number, so it completes at once.
 */
export async function registerDevice(s: Services, d: DeviceRegistration): Promise<RegisteredDevice> {
  const possessionKey = (() => {
    try {
      return parsePossessionKey(d.possessionKey);
    } catch {
      throw new Unprocessable('ERR_DEVICE_KEY', 'possessionKey must be a P-256 public key (JWK).', { field: 'possessionKey' });
    }
  })();
  for (const field of ['knowledgeKey', 'offlineKey'] as const) {
    if (Buffer.from(d[field], 'base64url').length !== 32 || !/^[A-Za-z0-9_-]{43}$/.test(d[field]))
      throw new Unprocessable('ERR_DEVICE_KEY', `${field} must be 32 bytes in base64url.`, { field });
  }
  const digest = codeDigest(s, d.activationCode);
  const found = await s.db.selectFrom('app_activations').selectAll().where('code_digest', '=', digest).executeTakeFirst();
  const now = s.clock.now();
  if (!found || !['pending', 'initiated'].includes(found.status)) {
    throw new Unprocessable('ERR_ACTIVATION_CODE', 'This activation code is not valid (already used, replaced or mistyped).', {
      field: 'activationCode',
    });
  }
  if (new Date(found.expires_at) <= now) {
    throw new Unprocessable(
      'ERR_ACTIVATION_EXPIRED',
      found.channel === 'branch'
        ? 'The activation started in your branch has expired: it must be started again there, face to face.'
        : 'This activation code has expired: start again from your web banking.',
      { field: 'activationCode' },
    );
  }
  assertEligible(await appEligibility(s, found.customer_id, found.channel));
  const verdict = await attestationVerdict(s, d.attestation, d.platform);
  const authenticatorId = newId();
  const confirmCode = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const params: AppParams = {
    possessionKey,
    deviceName: d.deviceName,
    platform: d.platform,
    rpId: found.rp_id,
    attestation: { verdict: verdict.verdict, format: d.attestation?.format ?? null },
    biometric: null,
    useDays: [],
    trustedAt: null,
  };
  const result = await s.db.transaction().execute(async (tx) => {
    const customer = await lockCustomer(tx, found.customer_id);
    // The installation first (the activation points to it), then the claim: a lost race rolls both back.
    await insertAuthenticator(tx, {
      id: authenticatorId,
      customerId: found.customer_id,
      kind: 'app',
      label: d.deviceName,
      status: 'pending',
      now,
      secretSealed: sealAppSecrets(s.sealer, authenticatorId, { knowledge: d.knowledgeKey, offline: d.offlineKey }),
      params: params as unknown as Record<string, unknown>,
    });
    const claimed = await tx
      .updateTable('app_activations')
      .set({
        status: found.channel === 'branch' ? 'registering' : 'awaiting_confirmation',
        authenticator_id: authenticatorId,
        confirm_hash: found.channel === 'branch' ? null : keyedHash(s.hashKey, 'app-confirm', found.id, confirmCode),
      })
      .where('id', '=', found.id)
      .where('status', '=', found.status)
      .returning('id')
      .executeTakeFirst();
    if (!claimed) throw new Conflict('ERR_ACTIVATION_STATE', 'This activation code was just used by another device.');
    if (found.channel === 'branch') {
      await completeActivation(tx, { activationId: found.id, customerId: found.customer_id, authenticatorId, rpId: found.rp_id, now });
      return { customer, status: 'active' as const };
    }
    await queueMessage(tx, s, {
      customerId: found.customer_id,
      purpose: 'app:confirmation',
      now,
      message: {
        kind: 'sms',
        to: customer.mobile_phone as never,
        text: appConfirmationSms({
          locale: customer.locale === 'en' ? 'en' : 'fr',
          code: confirmCode,
          deviceName: d.deviceName,
          brand: s.config.channels.brand,
        }),
      },
    });
    return { customer, status: 'awaiting_confirmation' as const };
  });
  if (result.status === 'awaiting_confirmation') s.messagesQueued();
  return {
    activationId: found.id,
    authenticatorId,
    status: result.status,
    confirmation:
      result.status === 'awaiting_confirmation' ? { channel: 'sms', destination: maskPhone(result.customer.mobile_phone!) } : null,
    customer: { displayName: result.customer.display_name },
  };
}

/** Attempts at the confirmation code before the activation is cancelled. */
const CONFIRM_TRIES = 5;

/** The code sent to the secure mobile, typed in the app: the installation becomes the customer's app. */
export async function confirmDevice(
  s: Services,
  c: { activationId: string; authenticatorId: string; code: string },
): Promise<{ authenticatorId: string; status: 'active'; activatedAt: string }> {
  const outcome = await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    const a = await tx.selectFrom('app_activations').selectAll().where('id', '=', c.activationId).executeTakeFirst();
    if (!a || a.authenticator_id !== c.authenticatorId) throw new NotFound('Activation');
    await lockCustomer(tx, a.customer_id);
    const fresh = await tx.selectFrom('app_activations').selectAll().where('id', '=', a.id).executeTakeFirstOrThrow();
    if (fresh.status !== 'awaiting_confirmation') throw new Conflict('ERR_ACTIVATION_STATE', `This activation is ${fresh.status}.`);
    if (new Date(fresh.expires_at) <= now)
      throw new Unprocessable('ERR_ACTIVATION_EXPIRED', 'This activation has expired: start again from your web banking.');
    const ok = safeEqual(keyedHash(s.hashKey, 'app-confirm', a.id, c.code.trim()), fresh.confirm_hash ?? '');
    if (!ok) {
      const tries = fresh.tries + 1;
      await tx
        .updateTable('app_activations')
        .set({ tries, ...(tries >= CONFIRM_TRIES ? { status: 'cancelled' } : {}) })
        .where('id', '=', a.id)
        .execute();
      // The installation registered for it never becomes anyone's: revoked, its keys destroyed.
      if (tries >= CONFIRM_TRIES) await revokeUnconfirmed(tx, [c.authenticatorId], now);
      return { ok: false as const, remaining: CONFIRM_TRIES - tries };
    }
    await completeActivation(tx, { activationId: a.id, customerId: a.customer_id, authenticatorId: c.authenticatorId, rpId: a.rp_id, now });
    return { ok: true as const, now };
  });
  if (!outcome.ok) {
    throw new Unprocessable(
      'ERR_CONFIRMATION_CODE',
      outcome.remaining > 0
        ? 'This is not the code sent to your secure mobile number.'
        : 'Too many wrong codes: start the activation again.',
      { field: 'code', remainingTries: outcome.remaining },
    );
  }
  return { authenticatorId: c.authenticatorId, status: 'active', activatedAt: outcome.now.toISOString() };
}

/**
 * Under the customer's lock: the new installation becomes active, any previous one is revoked (transfer,
 * reinstall), SMS codes on the secure number are subscribed if they were not, and the bank is told.
 */
async function completeActivation(
  tx: Db,
  c: { activationId: string; customerId: string; authenticatorId: string; rpId: string; now: Date },
): Promise<void> {
  const { now } = c;
  const previous = await tx
    .updateTable('authenticators')
    .set({ status: 'revoked', revoked_at: now })
    .where('customer_id', '=', c.customerId)
    .where('kind', '=', 'app')
    .where('status', 'in', ['active', 'suspended', 'pending'])
    .where('id', '!=', c.authenticatorId)
    .returning(['id', 'status'])
    .execute();
  await retireAppInstallations(
    tx,
    previous.map((p) => p.id),
  );
  await tx.updateTable('authenticators').set({ status: 'active', activated_at: now }).where('id', '=', c.authenticatorId).execute();
  await tx.updateTable('app_activations').set({ status: 'subscribed', completed_at: now }).where('id', '=', c.activationId).execute();
  const customer = await findCustomer(tx, c.customerId);
  const sms = await ensureSmsFallback(tx, customer, now);
  const chain = customerChain(c.customerId);
  const data = { customerId: c.customerId, authenticatorId: c.authenticatorId, kind: 'app', category: 'possession', bootstrap: false };
  await appendAudit(tx, chain, now, {
    type: 'app.subscribed',
    actor: `customer:${c.customerId}`,
    data: { activationId: c.activationId, authenticatorId: c.authenticatorId, revoked: previous.map((p) => p.id), smsSubscribed: sms },
  });
  await enqueueEvent(tx, now, { type: 'authenticator.added', rpId: null, data });
  for (const p of previous) {
    await enqueueEvent(tx, now, {
      type: 'authenticator.removed',
      rpId: null,
      data: { customerId: c.customerId, authenticatorId: p.id, kind: 'app', category: 'possession', reason: 'replaced' },
    });
  }
}

/** Subscribing to the app subscribes SMS codes on the secure number (seed 003): the fallback is ready. */
async function ensureSmsFallback(tx: Db, customer: CustomerRow, now: Date): Promise<boolean> {
  if (!customer.mobile_phone) return false;
  const existing = await tx
    .selectFrom('authenticators')
    .select(['id', 'params'])
    .where('customer_id', '=', customer.id)
    .where('kind', '=', 'sms')
    .where('status', '=', 'active')
    .execute();
  if (existing.some((a) => (a.params as { phone?: string }).phone === customer.mobile_phone)) return false;
  await insertAuthenticator(tx, {
    customerId: customer.id,
    kind: 'sms',
    label: 'SMS',
    status: 'active',
    now,
    params: { phone: customer.mobile_phone, lineType: 'MOBILE', locale: customer.locale === 'en' ? 'en' : 'fr' },
  });
  return true;
}

/** The identity checks that allow lifting the 72 h delay: the same as for a change of postal address. */
const REINFORCED_CHECKS = ['branch-id-document', 'video-id-document'] as const;

/** An authorised advisor lifts the 72 h email delay after a recorded reinforced identity check (audited). */
export async function liftAppDelay(
  s: Services,
  advisor: { id: string; roles: string[]; channel: string },
  customerId: string,
  check: { method: string; reference: string },
): Promise<EligibilityView> {
  if (!advisor.roles.includes('app_enrolment')) throw new Forbidden('The advisor role "app_enrolment" is required.');
  if (!(REINFORCED_CHECKS as readonly string[]).includes(check.method)) {
    throw new Unprocessable(
      'ERR_IDENTITY_CHECK',
      `Lifting the delay needs a reinforced identity check: ${REINFORCED_CHECKS.join(' or ')}.`,
      {
        field: 'identityCheck/method',
      },
    );
  }
  // The same rule as for an unblock: a phone advisor has seen no document, in person or on video.
  assertCheckPossibleFrom(advisor.channel, check.method as IdentityCheck['method']);
  await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await lockCustomer(tx, customerId);
    await tx.updateTable('customers').set({ app_delay_lifted_at: now, updated_at: now }).where('id', '=', customerId).execute();
    await appendAudit(tx, customerChain(customerId), now, {
      type: 'app.delay_lifted',
      actor: `advisor:${advisor.id}`,
      data: { customerId, identityCheck: { method: check.method, reference: check.reference }, advisorChannel: advisor.channel },
    });
  });
  return appEligibility(s, customerId);
}

/**
 * Branch activation: only an advisor in the face-to-face channel, with the role, may initiate it. The
 * activation code goes to the customer's secure mobile only: the advisor never sees it (else an advisor
 * could activate the app on a phone of their own).
 */
export async function startBranchActivation(
  s: Services,
  advisor: { id: string; roles: string[]; channel: string },
  customerId: string,
  body: { faceToFace: boolean; locale?: 'fr' | 'en' | undefined },
): Promise<ActivationView> {
  if (!advisor.roles.includes('app_enrolment')) throw new Forbidden('The advisor role "app_enrolment" is required.');
  if (advisor.channel !== 'branch' || !body.faceToFace) {
    throw new Forbidden('The app is activated in a branch only face to face with the customer (not by phone or remotely).');
  }
  const started = await startAppActivation(s, {
    rpId: `branch:${advisor.id}`,
    customerId,
    channel: 'branch',
    advisorId: advisor.id,
    locale: body.locale,
  });
  // The code and its QR code went to the customer's phone only.
  const { activationCode: _code, activationUrl: _url, qrSvg: _qr, ...view } = started;
  return view;
}
