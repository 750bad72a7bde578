import { ApiError } from '../api.js';
import { useI18n } from '../i18n.js';

/**
 * Turns an error from the bank into words. An authentication failure stays generic — it never says
 * which element was wrong — but tells how many attempts are left, and warns before a permanent block.
 */
export function ProblemAlert({ error, testId, login = false }: { error: unknown; testId: string; login?: boolean }) {
  const { m, time } = useI18n();
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError(0, {});
  const lines: { text: string; testId?: string }[] = [];

  switch (e.code) {
    case 'ERR_AUTHENTICATION_FAILED':
      lines.push({ text: login ? m.errors.authLogin : m.errors.auth });
      if (e.remainingAttempts !== undefined) lines.push({ text: m.errors.remaining(e.remainingAttempts), testId: 'remaining-attempts' });
      if (e.nextBlockPermanent) lines.push({ text: m.errors.nextPermanent });
      break;
    case 'ERR_CUSTOMER_BLOCKED':
      lines.push({
        text: e.permanent || !e.blockedUntil ? m.errors.blockedPermanent : m.errors.blockedUntil(time(e.blockedUntil)),
        testId: 'blocked',
      });
      if (!e.permanent && e.nextBlockPermanent) lines.push({ text: m.errors.nextPermanent });
      break;
    default:
      lines.push({ text: messageFor(e.code, m.errors) });
  }

  return (
    <div className="alert alert-error" role="alert" data-testid={testId} data-code={e.code}>
      {lines.map((l, i) => (
        <p key={i} data-testid={l.testId}>
          {l.text}
        </p>
      ))}
    </div>
  );
}

function messageFor(code: string, m: ReturnType<typeof useI18n>['m']['errors']): string {
  switch (code) {
    case 'ERR_LINK_MISMATCH':
      return m.linkMismatch;
    case 'ERR_INSUFFICIENT_FUNDS':
      return m.insufficientFunds;
    case 'ERR_INVALID_IBAN':
      return m.invalidIban;
    case 'ERR_SAME_ACCOUNT':
      return m.sameAccount;
    case 'ERR_UNAVAILABLE':
    case 'ERR_UPSTREAM':
    case 'ERR_NETWORK':
      return m.unavailable;
    case 'ERR_INVALID_REQUEST':
      return m.invalid;
    case 'ERR_PHONE_PROOF_CODE':
    case 'ERR_ACTIVATION_CODE':
      return m.wrongCode;
    case 'ERR_NOT_A_MOBILE':
      return m.notAMobile;
    case 'ERR_NOT_A_PERSONAL_LINE':
      return m.notAPersonalLine;
    case 'ERR_INVALID_PHONE':
    case 'ERR_INVALID_PHONE_NUMBER':
      return m.invalidPhone;
    case 'ERR_SAME_NUMBER':
      return m.sameNumber;
    case 'ERR_NOT_ELIGIBLE':
      return m.notEligible;
    case 'ERR_STEP_UP_MISMATCH':
      return m.stepUpMismatch;
    case 'ERR_OTP_LIMIT':
      return m.tooManyCodes;
    case 'ERR_COOLING_OFF':
      return m.coolingOff;
    case 'ERR_NO_SUCH_METHOD':
      return m.noSuchMethod;
    case 'ERR_PASSKEY_NOT_RECOGNISED':
      return m.passkeyUnknown;
    case 'ERR_PASSKEY_CANCELLED':
      return m.passkeyCancelled;
    case 'ERR_LOGIN_NOT_STARTED':
    case 'ERR_PASSKEY_CHALLENGE':
    case 'ERR_WEBAUTHN_CHALLENGE':
    case 'ERR_TRANSFER_NOT_FOUND':
    case 'ERR_ENROLMENT_NOT_FOUND':
    case 'ERR_CODE_ALREADY_USED':
      return m.expired;
    default:
      return /EXPIRED|NOT_PENDING/.test(code) ? m.expired : m.generic;
  }
}
