import { useCallback, useEffect, useState } from 'react';
import { appApi, type AppActivation, type AppActivationStarted, type AppEligibility } from '../api.js';
import { svgDataUrl } from '../format.js';
import { useI18n } from '../i18n.js';
import { useAppMessages } from './app-messages.js';
import { ProblemAlert } from './ProblemAlert.js';

/**
 * "Activate the app" on "My security": whether the customer may (and which condition is missing), then
 * the QR code and activation code to use in the app — on a phone, or on this computer for the demo —
 * and the list of activations with their status.
 */
export function AppActivationPanel() {
  const { time } = useI18n();
  const a = useAppMessages();
  const [eligibility, setEligibility] = useState<AppEligibility | null>(null);
  const [activations, setActivations] = useState<AppActivation[]>([]);
  const [started, setStarted] = useState<AppActivationStarted | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    appApi.eligibility().then(setEligibility, setError);
    appApi.activations().then(
      (r) => setActivations(r.activations),
      () => undefined,
    );
  }, []);
  useEffect(load, [load]);

  // While a code is shown, follow its activation (the customer finishes on the phone): once done, the
  // used code goes away and the panel says the app is active.
  useEffect(() => {
    if (!started) return undefined;
    const t = window.setInterval(
      () =>
        appApi.activations().then(
          (r) => {
            setActivations(r.activations);
            if (r.activations.some((x) => x.activationId === started.activationId && x.status === 'subscribed')) {
              setStarted(null);
              load();
            }
          },
          () => undefined,
        ),
      2000,
    );
    return () => window.clearInterval(t);
  }, [started, load]);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      setStarted(await appApi.startActivation());
      load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card app-panel" aria-labelledby="app-panel-title" data-testid="app-panel">
      <h2 id="app-panel-title">{a.panelTitle}</h2>
      <p>{a.panelIntro}</p>
      {eligibility && !eligibility.eligible && (
        <div className="alert alert-info" data-testid="app-not-eligible">
          <p>{a.notEligible}</p>
          <ul>
            {eligibility.missing.map((g) => (
              <li key={g} data-testid={`app-missing-${g}`}>
                {a.missing[g] ?? g}
              </li>
            ))}
          </ul>
        </div>
      )}
      {eligibility?.eligible && (
        <p className="muted" data-testid="app-eligible">
          {eligibility.hasApp ? a.hasApp : a.eligible}
        </p>
      )}
      <ProblemAlert error={error} testId="app-error" />
      {eligibility?.eligible && !started && (
        <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void start()} data-testid="app-activate">
          {eligibility.hasApp ? a.activateNewPhone : a.activate}
        </button>
      )}
      {started && (
        <div className="enrol-grid" data-testid="app-activation">
          <img className="qr" src={svgDataUrl(started.qrSvg)} alt={a.scanIntro} width={200} height={200} data-testid="app-qr" />
          <div>
            <p>{a.scanIntro}</p>
            <p className="muted small">{a.code}</p>
            <p className="display-code mono" data-testid="app-activation-code">
              {started.activationCode}
            </p>
            <p className="muted small">{a.expires(time(started.expiresAt))}</p>
            <a
              className="btn btn-secondary"
              href={appLink(started.activationUrl)}
              target="_blank"
              rel="noopener"
              data-testid="app-open-here"
            >
              {a.openHere}
            </a>
          </div>
        </div>
      )}
      {activations.length > 0 && (
        <>
          <h3>{a.activations}</h3>
          <ul className="app-activations" data-testid="app-activations">
            {activations.map((x) => (
              <li key={x.activationId} data-testid="app-activation-item" data-status={x.status}>
                <span className={`badge badge-${x.status === 'subscribed' ? 'active' : 'pending'}`}>
                  {a.statuses[x.status] ?? x.status}
                </span>{' '}
                {x.deviceName && <strong>{x.deviceName}</strong>} <span className="muted small">{time(x.createdAt)}</span>
                {x.subscribedAt && <span className="muted small"> · {a.subscribedOn(time(x.subscribedAt))}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** The activation link on this very server (the demo opens the app beside the bank, whatever the public URL). */
function appLink(activationUrl: string): string {
  try {
    const u = new URL(activationUrl);
    return u.pathname + u.search + u.hash;
  } catch {
    return activationUrl;
  }
}
