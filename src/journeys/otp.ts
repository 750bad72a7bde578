import {
  keypadResult,
  keypadVoiceScript,
  maskPhone,
  otpSms,
  readOutVoiceScript,
  type DeliveryMessage,
  type VoiceSegment,
} from '../channels/index.js';
import { NotFound, TooManyRequests, Unprocessable } from '../core/errors.js';
import type { OperationData, OperationType } from '../core/operations.js';
import { methodAllowed } from '../core/policy.js';
import { newId } from '../crypto/tokens.js';
import type { Services } from '../context.js';
import type { Db } from '../store/db.js';
import type { OperationRow } from '../store/schema.js';
import { lockSecurityState } from '../store/security-state.js';
import { newOtpCode, otpHash, sameHash } from '../methods/phone/codes.js';
import { assertPending } from './operations.js';
import { inCoolingOff } from './secure-phone.js';
import { queueMessage } from './messages.js';

/**
 * One-time codes sent by SMS or voice call for one operation (possession of the phone line). The code
 * comes from the CSPRNG, is stored only as a keyed hash bound to the challenge, the operation and its
 * link hash, lives at most 5 minutes and is used once; a wrong code is a failed SCA attempt like any.
 * Sending is limited per operation, per customer and per number (SMS pumping, toll fraud).
 *
 * Voice calls have two modes, chosen per authenticator: `read-out` (the call states the operation and
 * reads the code, which the customer types on the web page) and `keypad` (the page shows a code, the
 * call states the operation and asks the customer to type that code on the handset).
 */
export type PhoneMethod = 'sms' | 'voice';
export type VoiceMode = 'read-out' | 'keypad';
export type Locale = 'fr' | 'en';

export interface PhoneParams {
  phone: string;
  lineType: string;
  voiceMode?: VoiceMode;
  locale?: Locale;
}

export interface ChallengeView {
  id: string;
  method: PhoneMethod;
  mode: 'code' | VoiceMode;
  /** The number, masked: what the screen may say ("sent to •• •• •• 56 78"). */
  destination: string;
  expiresAt: string;
  /** Keypad calls only: the code to show on the screen, to be typed on the handset. */
  displayCode?: string;
}

/** Starts a challenge for an operation: the code and its message are written together (durable outbox). */
export async function sendOperationChallenge(
  s: Services,
  rpId: string,
  operationId: string,
  input: { method: PhoneMethod; authenticatorId?: string | undefined; locale?: Locale | undefined },
): Promise<ChallengeView> {
  const now = s.clock.now();
  const op = await s.db.selectFrom('operations').selectAll().where('id', '=', operationId).executeTakeFirst();
  if (!op || op.rp_id !== rpId) throw new NotFound('Operation');
  await assertPending(s.db, op, now);
  // No code is sent for a method the operation cannot use (an SMS to the number being replaced).
  if (!methodAllowed(s.scaPolicy, op.type as OperationType, input.method)) {
    throw new Unprocessable('ERR_METHOD_NOT_ALLOWED', `The method "${input.method}" cannot be used for a ${op.type} operation.`, {
      field: 'method',
    });
  }
  const view = await s.db.transaction().execute(async (tx) => {
    // Limits are counted under the customer's lock, so concurrent requests cannot exceed them.
    await lockSecurityState(tx, op.customer_id);
    const a = await phoneAuthenticator(tx, op.customer_id, input.method, input.authenticatorId);
    if (input.method === 'sms' && COOLING_OFF_TYPES.has(op.type)) await assertNotCoolingOff(tx, s, op.customer_id, now);
    const params = a.params as unknown as PhoneParams;
    await assertSendLimits(tx, s, { operationId: op.id, customerId: op.customer_id, destination: params.phone, now });
    const mode = input.method === 'sms' ? 'code' : (params.voiceMode ?? 'read-out');
    const code = newOtpCode(s.config.otp.digits);
    const id = newId();
    const expiresAt = new Date(now.getTime() + s.config.otp.ttlSeconds * 1000);
    await tx
      .insertInto('otp_challenges')
      .values({
        id,
        operation_id: op.id,
        customer_id: op.customer_id,
        authenticator_id: a.id,
        channel: input.method,
        mode,
        code_hash: otpHash(s.hashKey, id, op, code),
        created_at: now,
        expires_at: expiresAt,
        confirmed_at: null,
        used_at: null,
        delivery: 'pending',
      })
      .execute();
    const locale = input.locale ?? params.locale ?? 'fr';
    await queueMessage(tx, s, {
      customerId: op.customer_id,
      purpose: `otp:${op.type}`,
      challengeId: id,
      now,
      message: challengeMessage(s, { method: input.method, mode, phone: params.phone, code, op, locale }),
    });
    return {
      id,
      method: input.method,
      mode,
      destination: maskPhone(params.phone),
      expiresAt: expiresAt.toISOString(),
      ...(mode === 'keypad' ? { displayCode: code } : {}),
    } satisfies ChallengeView;
  });
  s.messagesQueued();
  return view;
}

function challengeMessage(
  s: Services,
  m: { method: PhoneMethod; mode: string; phone: string; code: string; op: OperationRow; locale: Locale },
): DeliveryMessage {
  const operation = m.op.data as unknown as OperationData;
  const ttlSeconds = s.config.otp.ttlSeconds;
  const to = m.phone as never;
  if (m.method === 'sms')
    return { kind: 'sms', to, text: otpSms({ code: m.code, operation, locale: m.locale, ttlSeconds, brand: s.config.channels.brand }) };
  const script =
    m.mode === 'keypad'
      ? keypadVoiceScript({ operation, locale: m.locale, codeLength: m.code.length, brand: s.config.channels.brand })
      : readOutVoiceScript({ operation, locale: m.locale, code: m.code, ttlSeconds, brand: s.config.channels.brand });
  return { kind: 'voice', to, script };
}

/** What pays out or raises a limit: right after a change of secure number, an SMS to it is not enough. */
const COOLING_OFF_TYPES = new Set(['add_beneficiary', 'card_limit_increase']);

async function assertNotCoolingOff(tx: Db, s: Services, customerId: string, now: Date): Promise<void> {
  const c = await tx.selectFrom('customers').select('secure_phone_changed_at').where('id', '=', customerId).executeTakeFirstOrThrow();
  if (inCoolingOff(c, now, s.config.securePhone.coolingOffHours)) {
    throw new Unprocessable(
      'ERR_COOLING_OFF',
      `The secure number changed less than ${s.config.securePhone.coolingOffHours} h ago: use the app, an authenticator, a token or a call to another line for this operation.`,
      { field: 'method' },
    );
  }
}

/** The active phone authenticator of this kind (the one named, else the oldest). */
async function phoneAuthenticator(tx: Db, customerId: string, method: PhoneMethod, id: string | undefined) {
  let q = tx
    .selectFrom('authenticators')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('kind', '=', method)
    .where('status', '=', 'active');
  if (id) q = q.where('id', '=', id);
  const a = await q.orderBy('created_at').executeTakeFirst();
  if (!a) {
    throw new Unprocessable(
      'ERR_NO_SUCH_METHOD',
      `The customer has no active ${method === 'sms' ? 'SMS' : 'voice call'} number${id ? ' with this id' : ''}.`,
      {
        field: id ? 'authenticatorId' : 'method',
      },
    );
  }
  return a;
}

/** Per operation, per customer and per number: a code costs money and is a fraud vector (SMS pumping). */
export async function assertSendLimits(
  tx: Db,
  s: Services,
  l: { operationId: string | null; customerId: string; destination: string; now: Date },
): Promise<void> {
  const hourAgo = new Date(l.now.getTime() - 3600_000);
  const limits = s.config.otp;
  if (l.operationId) {
    const perOp = await tx
      .selectFrom('otp_challenges')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('operation_id', '=', l.operationId)
      .executeTakeFirstOrThrow();
    if (Number(perOp.n) >= limits.maxPerOperation) {
      throw new TooManyRequests('ERR_OTP_LIMIT', `At most ${limits.maxPerOperation} codes are sent for one operation: start a new one.`);
    }
  }
  const recent = await tx
    .selectFrom('messages')
    .select((eb) => [
      eb.fn.count<number>('id').filterWhere('customer_id', '=', l.customerId).as('customer'),
      eb.fn.count<number>('id').filterWhere('destination', '=', l.destination).as('destination'),
    ])
    .where('created_at', '>', hourAgo)
    .where('purpose', 'like', 'otp:%')
    .where((eb) => eb.or([eb('customer_id', '=', l.customerId), eb('destination', '=', l.destination)]))
    .executeTakeFirstOrThrow();
  if (Number(recent.customer) >= limits.maxPerCustomerHour || Number(recent.destination) >= limits.maxPerDestinationHour) {
    throw new TooManyRequests('ERR_OTP_LIMIT', 'Too many codes were sent recently: try again later or use another method.');
  }
}

/**
 * Keypad calls: the keys typed on the handset during the call. The right code confirms the challenge
 * (the SCA attempt then completes with it); a wrong one voids it, and the attempt fails and counts.
 */
export async function confirmKeypad(s: Services, messageProviderId: string, digits: string): Promise<VoiceSegment[]> {
  const now = s.clock.now();
  const row = await s.db
    .selectFrom('messages as m')
    .innerJoin('otp_challenges as c', 'c.id', 'm.challenge_id')
    .innerJoin('operations as o', 'o.id', 'c.operation_id')
    .innerJoin('authenticators as a', 'a.id', 'c.authenticator_id')
    .select(['c.id', 'c.code_hash', 'c.expires_at', 'c.used_at', 'c.confirmed_at', 'c.mode', 'o.id as op_id', 'o.link_hash', 'a.params'])
    .where('m.provider_id', '=', messageProviderId)
    .executeTakeFirst();
  // Said in the language the call was made in: the line's own.
  const locale: Locale = (row?.params as { locale?: string } | undefined)?.locale === 'en' ? 'en' : 'fr';
  if (!row || row.mode !== 'keypad' || row.used_at || row.confirmed_at || new Date(row.expires_at) <= now)
    return keypadResult(locale, false);
  const ok = sameHash(otpHash(s.hashKey, row.id, { id: row.op_id, link_hash: row.link_hash }, digits.replace(/#$/, '')), row.code_hash);
  await s.db
    .updateTable('otp_challenges')
    .set(ok ? { confirmed_at: now } : { expires_at: now, delivery: 'wrong-keys' })
    .where('id', '=', row.id)
    .where('confirmed_at', 'is', null)
    .execute();
  return keypadResult(locale, ok);
}

export interface ChallengeStatus {
  id: string;
  method: PhoneMethod;
  /** pending, queued, sent, delivered, undeliverable, failed, machine, wrong-keys… as the provider reported it. */
  delivery: string;
  used: boolean;
  expiresAt: string;
  /** When an SMS could not be delivered: the way that still works (a call), so the screen can propose it. */
  offer?: PhoneMethod;
}

/** Where a sent code stands, so the screen can say "not delivered: shall we call you instead?". */
export async function challengeStatus(s: Services, rpId: string, operationId: string, challengeId: string): Promise<ChallengeStatus> {
  const row = await s.db
    .selectFrom('otp_challenges as c')
    .innerJoin('operations as o', 'o.id', 'c.operation_id')
    .select(['c.id', 'c.channel', 'c.delivery', 'c.used_at', 'c.expires_at', 'c.customer_id', 'o.rp_id'])
    .where('c.id', '=', challengeId)
    .where('c.operation_id', '=', operationId)
    .executeTakeFirst();
  if (!row || row.rp_id !== rpId) throw new NotFound('Challenge');
  const failed = row.delivery === 'undeliverable' || row.delivery === 'failed';
  const canCall =
    failed &&
    row.channel === 'sms' &&
    !!(await s.db
      .selectFrom('authenticators')
      .select('id')
      .where('customer_id', '=', row.customer_id)
      .where('kind', '=', 'voice')
      .where('status', '=', 'active')
      .executeTakeFirst());
  return {
    id: row.id,
    method: row.channel,
    delivery: row.delivery,
    used: row.used_at !== null,
    expiresAt: new Date(row.expires_at).toISOString(),
    ...(canCall ? { offer: 'voice' as const } : {}),
  };
}
