import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, type Authenticator, type Security, type TotpEnrolment } from '../api.js';
import { CodeField, Field } from '../components/Field.js';
import { ProblemAlert } from '../components/ProblemAlert.js';
import { groupSecret, svgDataUrl } from '../format.js';
import { useI18n } from '../i18n.js';
import { MESSAGES } from '../messages.js';

/** "My security": the same list of methods the advisor and every other channel see, and TOTP enrolment. */
export function SecurityPage() {
  const { m } = useI18n();
  const [security, setSecurity] = useState<Security | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    api.security().then(setSecurity, setError);
  }, []);
  useEffect(load, [load]);

  return (
    <section aria-labelledby="security-title" data-testid="security-page">
      <h1 id="security-title">{m.security.title}</h1>
      <p className="lead">{m.security.intro}</p>
      <ProblemAlert error={error} testId="security-error" />
      {!security && !error && <p className="loading">{m.loading}</p>}
      {security && (
        <>
          <StatusLine status={security.status} />
          <h2>{m.security.methods}</h2>
          <ul className="methods" data-testid="security-methods">
            {security.authenticators.map((a) => (
              <MethodItem key={a.id} a={a} />
            ))}
          </ul>
          <TotpEnrolmentCard needsSca={security.canDoSca} onChanged={load} />
        </>
      )}
    </section>
  );
}

function StatusLine({ status }: { status: Security['status'] }) {
  const { m } = useI18n();
  if (status.blocked) {
    return (
      <p className="alert alert-error" data-testid="security-status">
        {m.security.blocked}
      </p>
    );
  }
  return (
    <p className="muted" data-testid="security-status">
      {m.security.attempts(status.remainingAttempts)}
    </p>
  );
}

function MethodItem({ a }: { a: Authenticator }) {
  const { m, date, time } = useI18n();
  return (
    <li className="card method" data-testid={`method-${a.kind}`} data-status={a.status}>
      <div>
        <h3>{m.security.kinds[a.kind] ?? a.kind}</h3>
        {a.label && !isDefaultLabel(a) && <p className="muted">{a.label}</p>}
      </div>
      <dl>
        <div>
          <dt>{m.security.category}</dt>
          <dd data-testid="method-category">{m.security.categories[a.category] ?? a.category}</dd>
        </div>
        <div>
          <dt>{m.security.status}</dt>
          <dd>
            <span className={`badge badge-${a.status}`} data-testid="method-status">
              {m.security.statuses[a.status] ?? a.status}
            </span>
          </dd>
        </div>
        <div>
          <dt>{m.security.added}</dt>
          <dd>{date(a.createdAt)}</dd>
        </div>
        <div>
          <dt>{m.security.lastUsed}</dt>
          <dd>{a.lastUsedAt ? time(a.lastUsedAt) : m.security.never}</dd>
        </div>
      </dl>
    </li>
  );
}

/** The server names methods by their kind unless the customer chose a name: don't say it twice. */
function isDefaultLabel(a: Authenticator): boolean {
  const label = a.label?.trim().toLowerCase() ?? '';
  return Object.values(MESSAGES).some((msgs) => (msgs.security.kinds[a.kind] ?? '').toLowerCase().startsWith(label));
}

/**
 * Enrolling a TOTP app: confirm with the current elements (when the customer already has two), scan the
 * QR code or type the key, then activate with the first code the new app shows.
 */
function TotpEnrolmentCard({ needsSca, onChanged }: { needsSca: boolean; onChanged(): void }) {
  const { m } = useI18n();
  const [label, setLabel] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [firstCode, setFirstCode] = useState('');
  const [activated, setActivated] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  /** Runs one step; false when it failed (the error is shown). */
  const run = async (action: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const start = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const body = { ...(label.trim() ? { label: label.trim() } : {}), ...(needsSca ? { password, code } : {}) };
      setEnrolment(await api.enrolTotp(body));
      setPassword('');
      setCode('');
      setActivated(false);
      onChanged();
    }).then((ok) => {
      if (!ok) setCode('');
    });
  };

  const activate = (e: FormEvent) => {
    e.preventDefault();
    if (!enrolment) return;
    void run(async () => {
      await api.activateTotp(enrolment.authenticatorId, firstCode);
      setEnrolment(null);
      setFirstCode('');
      setLabel('');
      setActivated(true);
      onChanged();
    }).then((ok) => {
      if (!ok) setFirstCode('');
    });
  };

  return (
    <div className="card enrol" data-testid="totp-enrolment">
      <h2>{m.security.addTitle}</h2>
      <p>{m.security.addIntro}</p>
      {activated && (
        <p className="alert alert-success" role="status" data-testid="enrol-done">
          {m.security.activated}
        </p>
      )}
      {!enrolment ? (
        <form onSubmit={start}>
          <Field label={m.security.label} testId="enrol-label" value={label} onChange={(e) => setLabel(e.target.value)} maxLength={64} />
          {needsSca && (
            <>
              <p className="hint spaced">{m.security.addConfirm}</p>
              <Field
                label={m.security.password}
                testId="enrol-password"
                type="password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoComplete="current-password"
                required
              />
              <CodeField label={m.security.currentCode} testId="enrol-code" value={code} onChange={setCode} />
            </>
          )}
          <ProblemAlert error={error} testId="enrol-error" />
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="enrol-start">
            {m.security.start}
          </button>
        </form>
      ) : (
        <form onSubmit={activate}>
          <div className="enrol-grid">
            <figure className="qr">
              <img src={svgDataUrl(enrolment.qrSvg)} alt={m.security.qrAlt} width={200} height={200} data-testid="enrol-qr" />
              <figcaption>{m.security.scan}</figcaption>
            </figure>
            <div>
              <p>{m.security.manual}</p>
              <p className="secret mono" data-testid="enrol-secret">
                {groupSecret(enrolment.secret)}
              </p>
              <p className="muted small">{m.security.oathtool}</p>
              <pre className="cmd">
                <code>oathtool --totp -b {enrolment.secret}</code>
              </pre>
            </div>
          </div>
          <CodeField label={m.security.firstCode} testId="enrol-activate-code" value={firstCode} onChange={setFirstCode} autoFocus />
          <ProblemAlert error={error} testId="enrol-error" />
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="enrol-activate">
            {m.security.activate}
          </button>
        </form>
      )}
    </div>
  );
}
