import { otpSms, parseCodeRecipient, readOutVoiceScript, type DeliveryMessage } from '../channels/index.js';
import { Unprocessable } from '../core/errors.js';
import type { OperationData } from '../core/operations.js';
import { newId } from '../crypto/tokens.js';
import { newOtpCode, otpHash, sameHash } from '../methods/phone/codes.js';
import type { Services } from '../context.js';
import {
  activatePending,
  authenticatorView,
  type AuthenticatorView,
  enrolmentTtlMs,
  insertAuthenticator,
  phoneTarget,
  underStepUp,
} from './authenticators.js';
import { queueMessage } from './messages.js';
import { assertSendLimits, type Locale, type PhoneMethod, type PhoneParams, type VoiceMode } from './otp.js';

/**
 * Registering a phone number as a means of authentication: a mobile for SMS codes, or any line — a
 * landline too — for voice calls. The number is proven by a code sent to it (pending until typed
 * back). A customer without a mobile is not an exception: a landline with voice calls is a complete
 * possession element for login and payments.
 */
export interface PhoneEnrolment extends AuthenticatorView {
  phone: string;
  lineType: string;
  voiceMode: VoiceMode | null;
  activateBefore: string;
}

export async function enrolPhone(
  s: Services,
  c: {
    rpId: string;
    customerId: string;
    authenticationCode?: string | undefined;
    method: PhoneMethod;
    phone: string;
    voiceMode?: VoiceMode | undefined;
    locale?: Locale | undefined;
    label?: string | undefined;
  },
): Promise<PhoneEnrolment> {
  const parsed = parseCodeRecipient(c.phone, s.config.channels, 'phone');
  if (c.method === 'sms' && !parsed.canReceiveSms) {
    throw new Unprocessable('ERR_NOT_A_MOBILE', 'This number cannot receive SMS (a fixed line): register it for voice calls instead.', {
      field: 'phone',
      lineType: parsed.lineType,
      offer: 'voice',
    });
  }
  // Calls go out before the number is proven: never to a premium-rate, shared-cost or other service
  // number (toll fraud), only to a line a person answers.
  if (c.method === 'voice' && parsed.lineType === 'other') {
    throw new Unprocessable(
      'ERR_NOT_A_PERSONAL_LINE',
      'Codes are only called to a personal line (fixed, mobile or VoIP), not to a premium-rate, shared-cost or service number.',
      { field: 'phone', lineType: parsed.lineType },
    );
  }
  const code = newOtpCode(s.config.otp.digits);
  const id = newId();
  const locale = c.locale ?? 'fr';
  const voiceMode = c.method === 'voice' ? (c.voiceMode ?? 'read-out') : undefined;
  const params: PhoneParams & { activationHash: string } = {
    phone: parsed.e164,
    lineType: parsed.lineType,
    ...(voiceMode ? { voiceMode } : {}),
    locale,
    activationHash: otpHash(s.hashKey, id, { id: 'enrolment', link_hash: parsed.e164 }, code),
  };
  const row = await underStepUp(s, { ...c, target: phoneTarget(s, parsed.e164) }, 'add', c.method, async (tx, now, bootstrap) => {
    await assertSendLimits(tx, s, { operationId: null, customerId: c.customerId, destination: parsed.e164, now });
    const a = await insertAuthenticator(tx, {
      id,
      customerId: c.customerId,
      kind: c.method,
      label: c.label ?? (c.method === 'sms' ? 'SMS' : 'Appel vocal'),
      status: 'pending',
      now,
      params: { ...params, bootstrap },
    });
    await queueMessage(tx, s, {
      customerId: c.customerId,
      purpose: 'otp:enrolment',
      now,
      message: enrolmentMessage(s, c.method, parsed.e164, code, locale),
    });
    return a;
  });
  s.messagesQueued();
  return {
    ...authenticatorView(row),
    phone: parsed.e164,
    lineType: parsed.lineType,
    voiceMode: voiceMode ?? null,
    activateBefore: new Date(new Date(row.created_at).getTime() + enrolmentTtlMs(c.method, s.config)).toISOString(),
  };
}

function enrolmentMessage(s: Services, method: PhoneMethod, to: string, code: string, locale: Locale): DeliveryMessage {
  const operation = { type: 'manage_authenticators', action: 'add', kind: method } as unknown as OperationData;
  const ttlSeconds = s.config.otp.ttlSeconds;
  const brand = s.config.channels.brand;
  return method === 'sms'
    ? { kind: 'sms', to: to as never, text: otpSms({ code, operation, locale, ttlSeconds, brand }) }
    : { kind: 'voice', to: to as never, script: readOutVoiceScript({ code, operation, locale, ttlSeconds, brand }) };
}

/** The code sent at enrolment, typed back: the number is the customer's. */
export function activatePhone(
  s: Services,
  c: { rpId: string; customerId: string; authenticatorId: string; code: string },
  kind: PhoneMethod,
): Promise<AuthenticatorView> {
  return activatePending(s, c, kind, 'Type the code received on this number.', (a) => {
    const params = a.params as unknown as PhoneParams & { activationHash: string };
    const ok = sameHash(otpHash(s.hashKey, a.id, { id: 'enrolment', link_hash: params.phone }, c.code.trim()), params.activationHash);
    return ok ? { ok: true, lastUsedStep: null } : { ok: false };
  });
}
