import { isSamePhone, maskPhone, otpSms, parseCodeRecipient, parsePhone } from '../channels/index.js';
import { Conflict, NotFound, Unprocessable } from '../core/errors.js';
import type { OperationData } from '../core/operations.js';
import { newId } from '../crypto/tokens.js';
import { newOtpCode, otpHash, sameHash } from '../methods/phone/codes.js';
import type { Services } from '../context.js';
import { appendAudit, customerChain } from '../store/audit.js';
import type { Db } from '../store/db.js';
import { enqueueEvent } from '../store/outbox.js';
import type { CustomerRow } from '../store/schema.js';
import { lockSecurityState } from '../store/security-state.js';
import { consumeStepUp } from './authentication-codes.js';
import { customerView, findCustomer, revokeCodesTo, type CustomerView } from './customers.js';
import { queuePhoneChangeNotices } from './phone-change-notices.js';
import { queueMessage } from './messages.js';
import { assertSendLimits, type Locale } from './otp.js';

/**
 * The secure mobile number (seed 001): the number the bank texts codes to. Changing it is itself a
 * sensitive operation:
 *  - only an adult or an emancipated minor with a remote-banking subscription may do it alone;
 *  - it needs an authentication code of a `change_phone` operation for that new number, obtained with
 *    methods that do not rely on the number being replaced (never an SMS to it, nor a call to it);
 *  - the new number is proven by a code sent to it; the change takes effect at once;
 *  - the core banking system gets `secure_phone.changed`; an SMS to the OLD number and an email announce
 *    it with what to do if it was not the customer;
 *  - then a cooling-off period (`SESAME_PHONE_CHANGE_COOLING_OFF_HOURS`) during which a beneficiary or a
 *    card limit cannot be authorised with an SMS code: a fraudster who swapped the number cannot use it
 *    at once for what pays out.
 * "This is no longer my number" cannot complete alone: it records a case for an advisor.
 * A number not confirmed for a year is flagged; confirming it sends a code to it.
 */
const CHANGE_TTL_MS = 10 * 60_000;
const MAX_TRIES = 5;

export interface PhoneProof {
  id: string;
  destination: string;
  expiresAt: string;
}

/** Why a customer may not change the secure number alone, or null. */
export function ineligibility(c: CustomerRow, now: Date): string | null {
  if (!c.remote_banking) return 'no remote-banking subscription';
  if (c.emancipated) return null;
  if (!c.birth_date) return 'age unknown: the bank has not recorded a birth date';
  const [y, m, d] = c.birth_date.split('-').map(Number) as [number, number, number];
  const adultOn = Date.UTC(y + 18, m - 1, d);
  return now.getTime() >= adultOn ? null : 'a minor who is not emancipated cannot change it alone';
}

export async function startPhoneChange(
  s: Services,
  c: { rpId: string; customerId: string; phone: string; authenticationCode: string; locale?: Locale | undefined },
): Promise<PhoneProof> {
  const now = s.clock.now();
  const customer = await findCustomer(s.db, c.customerId);
  const why = ineligibility(customer, now);
  if (why) throw new Unprocessable('ERR_NOT_ELIGIBLE', `This customer cannot change the secure number alone: ${why}.`, { reason: why });
  const phone = parseCodeRecipient(c.phone, s.config.channels, 'phone');
  if (!phone.canReceiveSms)
    throw new Unprocessable('ERR_NOT_A_MOBILE', 'The secure number must be a mobile that can receive SMS.', { field: 'phone' });
  if (phone.e164 === customer.mobile_phone) throw new Conflict('ERR_SAME_NUMBER', 'This is already the secure number.');
  const proof = await s.db.transaction().execute(async (tx) => {
    await lockCustomer(tx, c.customerId);
    const claims = await consumeStepUp(tx, s, c.rpId, c.customerId, c.authenticationCode, {
      type: 'change_phone',
      data: (d) => isSamePhone(String(d.phone ?? ''), phone.e164, s.config.channels.defaultCountry as never),
    });
    await assertIndependentOfOldNumber(tx, customer, claims.methods, claims.op);
    return proveNumber(tx, s, { ...c, customer, purpose: 'change', phone: phone.e164, now });
  });
  s.messagesQueued();
  return proof;
}

/** The code that proves a number is the customer's: a change to it, or the yearly check of the current one. */
async function proveNumber(
  tx: Db,
  s: Services,
  p: { rpId: string; customer: CustomerRow; purpose: 'change' | 'reconfirm'; phone: string; now: Date; locale?: Locale | undefined },
): Promise<PhoneProof> {
  await assertSendLimits(tx, s, { operationId: null, customerId: p.customer.id, destination: p.phone, now: p.now });
  const id = newId();
  const code = newOtpCode(s.config.otp.digits);
  const expiresAt = new Date(p.now.getTime() + Math.min(CHANGE_TTL_MS, s.config.otp.ttlSeconds * 1000));
  await tx
    .insertInto('phone_changes')
    .values({
      id,
      customer_id: p.customer.id,
      rp_id: p.rpId,
      purpose: p.purpose,
      new_phone: p.phone,
      code_hash: otpHash(s.hashKey, id, { id: p.purpose, link_hash: p.phone }, code),
      tries: 0,
      created_at: p.now,
      expires_at: expiresAt,
      completed_at: null,
    })
    .execute();
  const operation = { type: 'change_phone', phone: p.phone } as unknown as OperationData;
  const locale = p.locale ?? (p.customer.locale as Locale);
  const text = otpSms({ code, operation, locale, ttlSeconds: s.config.otp.ttlSeconds, brand: s.config.channels.brand });
  await queueMessage(tx, s, {
    customerId: p.customer.id,
    purpose: `otp:phone-${p.purpose}`,
    now: p.now,
    message: { kind: 'sms', to: p.phone as never, text },
  });
  return { id, destination: maskPhone(p.phone), expiresAt: expiresAt.toISOString() };
}

/** The customer types the code received on the number: the change (or the yearly check) takes effect. */
export async function confirmPhone(s: Services, c: { rpId: string; customerId: string; id: string; code: string }): Promise<CustomerView> {
  const result = await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await lockCustomer(tx, c.customerId);
    const change = await tx
      .selectFrom('phone_changes')
      .selectAll()
      .where('id', '=', c.id)
      .where('customer_id', '=', c.customerId)
      .where('rp_id', '=', c.rpId)
      .executeTakeFirst();
    if (!change) throw new NotFound('Phone change');
    if (change.completed_at || new Date(change.expires_at) <= now || change.tries >= MAX_TRIES) {
      throw new Conflict('ERR_PHONE_PROOF_EXPIRED', 'This code is no longer valid: start again.');
    }
    const ok = sameHash(
      otpHash(s.hashKey, change.id, { id: change.purpose, link_hash: change.new_phone }, c.code.trim()),
      change.code_hash,
    );
    if (!ok) {
      await tx
        .updateTable('phone_changes')
        .set({ tries: change.tries + 1 })
        .where('id', '=', change.id)
        .execute();
      return { wrong: MAX_TRIES - change.tries - 1 } as const;
    }
    await tx.updateTable('phone_changes').set({ completed_at: now }).where('id', '=', change.id).execute();
    const customer = await findCustomer(tx, c.customerId);
    if (change.purpose === 'reconfirm') {
      const row = await tx
        .updateTable('customers')
        .set({ mobile_confirmed_at: now, updated_at: now })
        .where('id', '=', c.customerId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendAudit(tx, customerChain(c.customerId), now, { type: 'secure_phone.confirmed', actor: `rp:${c.rpId}`, data: {} });
      return { view: customerView(row) };
    }
    return { view: await applyChange(tx, s, c.rpId, customer, change.new_phone, now) };
  });
  if ('wrong' in result) {
    throw new Unprocessable('ERR_PHONE_PROOF_CODE', 'The code does not match the one sent to this number.', {
      field: 'code',
      remainingTries: result.wrong,
    });
  }
  s.messagesQueued();
  return result.view;
}

async function applyChange(tx: Db, s: Services, rpId: string, customer: CustomerRow, newPhone: string, now: Date): Promise<CustomerView> {
  const old = customer.mobile_phone;
  const row = await tx
    .updateTable('customers')
    .set({ mobile_phone: newPhone, mobile_confirmed_at: now, secure_phone_changed_at: now, updated_at: now })
    .where('id', '=', customer.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  // Calls to the old number stop too; SMS codes now go to the new number only.
  if (old) await revokeCodesTo(tx, { customerId: customer.id, phone: old, actor: `rp:${rpId}`, now, kinds: ['voice'] });
  const revoked = await tx
    .updateTable('authenticators')
    .set({ status: 'revoked', revoked_at: now })
    .where('customer_id', '=', customer.id)
    .where('kind', '=', 'sms')
    .where('status', '!=', 'revoked')
    .returning('id')
    .execute();
  const parsed = parsePhone(newPhone);
  await tx
    .insertInto('authenticators')
    .values({
      id: newId(),
      customer_id: customer.id,
      kind: 'sms',
      category: 'possession',
      status: 'active',
      label: 'SMS',
      secret_sealed: null,
      secret_digest: null,
      params: JSON.stringify({ phone: newPhone, lineType: parsed.lineType, locale: customer.locale }),
      last_used_step: null,
      created_at: now,
      activated_at: now,
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  const data = {
    customerId: customer.id,
    changedAt: now.toISOString(),
    previous: old ? maskPhone(old) : null,
    current: maskPhone(newPhone),
  };
  await appendAudit(tx, customerChain(customer.id), now, {
    type: 'secure_phone.changed',
    actor: `rp:${rpId}`,
    data: { ...data, revokedSms: revoked.length },
  });
  await enqueueEvent(tx, now, { type: 'secure_phone.changed', rpId: null, data });
  // The old number and the email are told, with what to do if it was not the customer.
  await queuePhoneChangeNotices(tx, s, row, old, now);
  return customerView(row);
}

/** The yearly check: a code to the current secure number. */
export async function startReconfirm(
  s: Services,
  c: { rpId: string; customerId: string; locale?: Locale | undefined },
): Promise<PhoneProof> {
  const customer = await findCustomer(s.db, c.customerId);
  if (!customer.mobile_phone) throw new Unprocessable('ERR_NO_SECURE_PHONE', 'This customer has no secure mobile number to confirm.');
  const proof = await s.db.transaction().execute(async (tx) => {
    await lockCustomer(tx, c.customerId);
    return proveNumber(tx, s, { ...c, customer, purpose: 'reconfirm', phone: customer.mobile_phone!, now: s.clock.now() });
  });
  s.messagesQueued();
  return proof;
}

/** "This is no longer my number": no self-service way around it; an advisor takes the case. */
export async function reportLostNumber(
  s: Services,
  c: { rpId: string; customerId: string },
): Promise<{ caseId: string; nextStep: string }> {
  await findCustomer(s.db, c.customerId);
  const id = newId();
  await s.db.transaction().execute(async (tx) => {
    const now = s.clock.now();
    await tx
      .insertInto('advisor_cases')
      .values({ id, customer_id: c.customerId, kind: 'secure_phone_lost', status: 'open', data: '{}', created_at: now, closed_at: null })
      .execute();
    await appendAudit(tx, customerChain(c.customerId), now, {
      type: 'advisor_case.opened',
      actor: `rp:${c.rpId}`,
      data: { caseId: id, kind: 'secure_phone_lost' },
    });
    await enqueueEvent(tx, now, {
      type: 'advisor_case.opened',
      rpId: null,
      data: { caseId: id, customerId: c.customerId, kind: 'secure_phone_lost' },
    });
  });
  return {
    caseId: id,
    nextStep:
      'Your adviser will contact you to check your identity (at the branch or by video with an ID document) before registering your new number. Nobody from the bank will ever ask you for a code.',
  };
}

/** Whether the secure number is due for its yearly check. */
export function numberCheckDue(c: CustomerRow, now: Date, afterDays: number): boolean {
  if (!c.mobile_phone) return false;
  const confirmed = c.mobile_confirmed_at ? new Date(c.mobile_confirmed_at).getTime() : 0;
  return now.getTime() - confirmed >= afterDays * 86_400_000;
}

/** Whether a new number's cooling-off is running: SMS is not enough for what pays out. */
export function inCoolingOff(c: Pick<CustomerRow, 'secure_phone_changed_at'>, now: Date, hours: number): boolean {
  return !!c.secure_phone_changed_at && now.getTime() - new Date(c.secure_phone_changed_at).getTime() < hours * 3_600_000;
}

/** An SMS or a call to the number being replaced proves nothing about the person asking to replace it. */
async function assertIndependentOfOldNumber(tx: Db, customer: CustomerRow, methods: string[], operationId: string): Promise<void> {
  if (methods.includes('sms')) {
    throw new Unprocessable('ERR_STEP_UP_MISMATCH', 'Changing the secure number cannot be authorised with an SMS code.', {
      field: 'authenticationCode',
    });
  }
  if (!methods.includes('voice') || !customer.mobile_phone) return;
  // The lines actually called for this operation (not merely the customer's voice lines: with a landline
  // besides, a call to the mobile would otherwise pass). Any call to the old number disqualifies.
  const called = await tx
    .selectFrom('otp_challenges as c')
    .innerJoin('authenticators as a', 'a.id', 'c.authenticator_id')
    .select('a.params')
    .where('c.operation_id', '=', operationId)
    .where('c.channel', '=', 'voice')
    .where((eb) => eb.or([eb('c.used_at', 'is not', null), eb('c.confirmed_at', 'is not', null)]))
    .execute();
  if (!called.length || called.some((v) => (v.params as { phone?: string }).phone === customer.mobile_phone)) {
    throw new Unprocessable('ERR_STEP_UP_MISMATCH', 'Changing the secure number cannot be authorised with a call to that number.', {
      field: 'authenticationCode',
    });
  }
}

async function lockCustomer(tx: Db, customerId: string): Promise<void> {
  await lockSecurityState(tx, customerId);
}
