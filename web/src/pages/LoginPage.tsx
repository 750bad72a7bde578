import { startAuthentication } from '@simplewebauthn/browser';
import { useState, type FormEvent } from 'react';
import { api, ApiError, type Me, type ScaChoice } from '../api.js';
import { AppLoginOption } from '../components/AppApproval.js';
import { Field } from '../components/Field.js';
import { ProblemAlert } from '../components/ProblemAlert.js';
import { initialSca, isKeypad, possessionOf, ScaMethods, type ScaState } from '../components/ScaMethods.js';
import { useI18n } from '../i18n.js';

/**
 * Two screens, one authentication: the password stays in the page until the code is typed, then both
 * are sent together, so a failure cannot tell which one was wrong (and an unknown identifier looks the
 * same as a wrong password). The second screen offers the customer's own possession methods, from
 * Sésame's ways-in: the app, a code by SMS, a call (a landline too), a token. A customer with a passkey
 * can skip both screens: the passkey they pick says who they are, and one gesture is the whole SCA.
 */
export function LoginPage({ notice, onLoggedIn }: { notice: 'expired' | 'logged-out' | null; onLoggedIn(me: Me): void }) {
  const { m, lang } = useI18n();
  const [step, setStep] = useState<'credentials' | 'code'>('credentials');
  const [ref, setRef] = useState('');
  const [password, setPassword] = useState('');
  const [methods, setMethods] = useState<ScaChoice[]>([]);
  const [sca, setSca] = useState<ScaState>({ method: null, code: '', challenge: null });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // While the app is asked, the other ways stay out of sight ("use another method" brings them back).
  const [appWaiting, setAppWaiting] = useState(false);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.loginStart(ref.trim());
      const { methods } = await api.loginMethods();
      setMethods(methods);
      setSca(initialSca(methods));
      setStep('code');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const passkey = async () => {
    setBusy(true);
    setError(null);
    try {
      const optionsJSON = (await api.passkeyLoginOptions()) as unknown as Parameters<typeof startAuthentication>[0]['optionsJSON'];
      const credential = await startAuthentication({ optionsJSON }).catch(() => {
        // Closed, timed out, or no passkey for this bank on this device: the browser does not say which.
        throw new ApiError(0, { code: 'ERR_PASSKEY_CANCELLED' });
      });
      const me = await api.passkeyLogin(credential as unknown as Record<string, unknown>);
      setPassword('');
      onLoggedIn(me);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const finish = async (e: FormEvent) => {
    e.preventDefault();
    const possession = possessionOf(sca);
    if (!possession) return;
    setBusy(true);
    setError(null);
    try {
      const me = await api.loginFinish(password, possession);
      setPassword('');
      onLoggedIn(me);
    } catch (err) {
      // Nobody can tell which element was wrong, so everything but the identifier is typed again.
      setError(err);
      setSca({ method: null, code: '', challenge: null });
      setPassword('');
      setStep('credentials');
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="login-title" data-testid="login-page">
      {notice === 'expired' && step === 'credentials' && !error && (
        <div className="alert alert-info" role="status" data-testid="session-expired">
          {m.login.expired}
        </div>
      )}
      {notice === 'logged-out' && step === 'credentials' && !error && (
        <div className="alert alert-info" role="status" data-testid="logged-out">
          {m.login.loggedOut}
        </div>
      )}

      {step === 'credentials' ? (
        <form onSubmit={start} data-testid="login-credentials">
          <h1 id="login-title">{m.login.title}</h1>
          <p className="lead">{m.login.intro}</p>
          <Field
            label={m.login.ref}
            testId="login-ref"
            value={ref}
            onChange={(e) => setRef(e.target.value)}
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            autoFocus={!ref}
          />
          <Field
            label={m.login.password}
            testId="login-password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="current-password"
            required
            autoFocus={!!ref}
          />
          <ProblemAlert error={error} testId="login-error" login />
          <button type="submit" className="btn btn-primary btn-block" disabled={busy} data-testid="login-continue">
            {m.login.continue}
          </button>
          {typeof window.PublicKeyCredential === 'function' && (
            <>
              <p className="hint or">{m.login.or}</p>
              <button
                type="button"
                className="btn btn-secondary btn-block"
                disabled={busy}
                onClick={() => void passkey()}
                data-testid="login-passkey"
              >
                {m.login.passkey}
              </button>
              <p className="hint">{m.login.passkeyHint}</p>
            </>
          )}
        </form>
      ) : (
        <form onSubmit={finish} data-testid="login-code-step">
          <h1 id="login-title">{sca.method === 'totp' ? m.login.codeTitle : m.sca.title}</h1>
          <p className="lead">{sca.method === 'totp' ? m.login.codeIntro : m.sca.intro}</p>
          <AppLoginOption onLoggedIn={onLoggedIn} onWaiting={setAppWaiting} />
          {!appWaiting && (
            <>
              <ScaMethods
                prefix="login"
                methods={methods}
                value={sca}
                onChange={setSca}
                busy={busy}
                autoFocus
                requestCode={(method) => api.loginChallenge(method, lang)}
                requestOcra={(authenticatorId) => api.loginOcraChallenge(authenticatorId)}
                requestPasskey={() => api.loginPasskeyOptions()}
              />
              <ProblemAlert error={error} testId="login-error" login />
              {!isKeypad(sca) && (
                <button
                  type="submit"
                  className="btn btn-primary btn-block"
                  disabled={busy || !possessionOf(sca)}
                  data-testid="login-submit"
                >
                  {m.login.submit}
                </button>
              )}
            </>
          )}
          <button
            type="button"
            className="btn btn-link"
            onClick={() => {
              setStep('credentials');
              setError(null);
            }}
            data-testid="login-back"
          >
            {m.back}
          </button>
          {sca.method === 'totp' && <p className="hint">{m.login.noPhone}</p>}
        </form>
      )}
    </section>
  );
}
