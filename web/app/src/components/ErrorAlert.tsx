import { DeviceApiError, NewPinInForce, PinChangeUnconfirmed } from '../../../../sdk/device/src/index.js';
import { useI18n } from '../i18n.js';

/**
 * An error of the device API in words: the server's own `detail` (problem+json), and for a failed
 * approval the generic message with the attempts left — never which element was wrong.
 */
export function ErrorAlert({ error, testId }: { error: unknown; testId: string }) {
  const { m } = useI18n();
  if (!error) return null;
  const lines: { text: string; testId?: string }[] = [];
  let code: string | undefined;
  if (error instanceof DeviceApiError) {
    code = error.code;
    const p = error.problem;
    const detail = typeof p.detail === 'string' && p.detail ? p.detail : null;
    // The generic failure, in the app's language: it never says which element was wrong.
    if (code === 'ERR_AUTHENTICATION_FAILED') lines.push({ text: m.errors.authFailed, testId: 'error-detail' });
    else if (code === 'ERR_CUSTOMER_BLOCKED' || code === 'ERR_AUTHENTICATOR_BLOCKED')
      lines.push({ text: m.errors.blocked, testId: 'error-detail' });
    else if (error.status === 401 && !detail) lines.push({ text: m.errors.revoked, testId: 'error-detail' });
    else lines.push({ text: detail ?? (typeof p.title === 'string' && p.title ? p.title : m.errors.generic), testId: 'error-detail' });
    if (typeof p.remainingAttempts === 'number')
      lines.push({ text: m.errors.remaining(p.remainingAttempts), testId: 'remaining-attempts' });
  } else if (error instanceof PinChangeUnconfirmed) {
    lines.push({ text: m.errors.pinChangeUnconfirmed, testId: 'error-detail' });
  } else if (error instanceof NewPinInForce) {
    lines.push({ text: m.errors.newPinInForce, testId: 'error-detail' });
  } else if (error instanceof TypeError && /fetch|network/i.test(error.message)) {
    lines.push({ text: m.errors.network, testId: 'error-detail' });
  } else if (error instanceof Error && error.message) {
    lines.push({ text: error.message, testId: 'error-detail' });
  } else {
    lines.push({ text: m.errors.generic, testId: 'error-detail' });
  }
  return (
    <div className="alert alert-error" role="alert" data-testid={testId} data-code={code}>
      {lines.map((l, i) => (
        <p key={i} data-testid={l.testId}>
          {l.text}
        </p>
      ))}
    </div>
  );
}
