import { useCallback, useEffect, useState, type FormEvent } from 'react';
import {
  api,
  type Authenticator,
  type PhoneEnrolment,
  type PhoneProof,
  type Security,
  type StepUpOperation,
  type TotpEnrolment,
  type WayIn,
  type WaysIn,
} from '../api.js';
import { AppActivationPanel } from '../components/AppActivationPanel.js';
import { CodeField, Field } from '../components/Field.js';
import { PasskeysPanel } from '../components/PasskeysPanel.js';
import { ProblemAlert } from '../components/ProblemAlert.js';
import { choicesFor, newStepUp, stepUpBody, StepUpFields, type StepUpState } from '../components/StepUpFields.js';
import { isKeypad, tail } from '../components/ScaMethods.js';
import { groupSecret, svgDataUrl } from '../format.js';
import { useI18n } from '../i18n.js';
import { MESSAGES } from '../messages.js';

/**
 * "My security" renders Sésame's one answer about the customer's ways in (the same the SCA screens and
 * the advisor see): each method and what it is for, whether the customer can log in and pay, what they
 * could add, and the secure mobile number with its change, its loss and its yearly check.
 */
export function SecurityPage() {
  const { m } = useI18n();
  const [security, setSecurity] = useState<Security | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [adding, setAdding] = useState<'sms' | 'voice' | null>(null);

  const load = useCallback(() => {
    api.security().then(setSecurity, setError);
  }, []);
  useEffect(load, [load]);

  const ways = security?.waysIn;
  return (
    <section aria-labelledby="security-title" data-testid="security-page">
      <h1 id="security-title">{m.security.title}</h1>
      <p className="lead">{m.security.intro}</p>
      <ProblemAlert error={error} testId="security-error" />
      {!security && !error && <p className="loading">{m.loading}</p>}
      {security && ways && (
        <>
          <StatusLine status={security.status} />
          <h2>{m.security.methods}</h2>
          <ul className="methods" data-testid="security-methods">
            {ways.methods.map((w) => (
              <MethodItem key={w.id} w={w} a={security.authenticators.find((a) => a.id === w.id)} />
            ))}
          </ul>
          <ul className="reach" data-testid="security-reach">
            <li data-testid="can-log-in" data-value={String(ways.canLogIn)}>
              {ways.canLogIn ? '✓ ' : '✗ '}
              {m.security.canLogIn(ways.canLogIn)}
            </li>
            <li data-testid="can-pay" data-value={String(ways.canPay)}>
              {ways.canPay ? '✓ ' : '✗ '}
              {m.security.canPay(ways.canPay)}
            </li>
          </ul>

          <SecurePhoneCard ways={ways} onChanged={load} />
          <AppActivationPanel />

          <h2>{m.security.addSection}</h2>
          <ul className="can-add" data-testid="security-can-add">
            {ways.canAdd.map((c) => (
              <li key={c.kind} className="card can-add-item" data-testid={`can-add-${c.kind}`}>
                <span>{m.security.addKinds[c.kind] ?? c.kind}</span>
                {c.setup === 'bank' ? (
                  <span className="muted" data-testid={`ask-advisor-${c.kind}`}>
                    {m.security.askAdvisor}
                  </span>
                ) : c.kind === 'totp' ? (
                  <a className="btn btn-secondary" href="#totp-enrolment" data-testid="add-totp">
                    {m.security.add}
                  </a>
                ) : c.kind === 'sms' || c.kind === 'voice' ? (
                  <button
                    type="button"
                    className="btn btn-secondary"
                    data-testid={`add-${c.kind}`}
                    onClick={() => setAdding(c.kind as 'sms' | 'voice')}
                  >
                    {m.security.add}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
          {adding && (
            <PhoneEnrolmentCard
              key={adding}
              kind={adding}
              ways={ways}
              needsSca={security.canDoSca}
              onChanged={load}
              onClose={() => setAdding(null)}
            />
          )}
          <TotpEnrolmentCard needsSca={security.canDoSca} ways={ways} onChanged={load} />
          <PasskeysPanel needsSca={security.canDoSca} ways={ways} onChanged={load} />
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

function MethodItem({ w, a }: { w: WayIn; a: Authenticator | undefined }) {
  const { m, date, time } = useI18n();
  const purposes = [
    ...(w.usableFor.includes('login') ? [m.security.purposes.login] : []),
    ...(w.usableFor.includes('payment') ? [m.security.purposes.payment] : []),
    ...(w.usableFor.some((t) => t !== 'login' && t !== 'payment') ? [m.security.purposes.other] : []),
  ];
  return (
    <li className="card method" data-testid={`method-${w.kind}`} data-status={w.status}>
      <div>
        <h3>{m.security.kinds[w.kind] ?? w.kind}</h3>
        {w.label && !isDefaultLabel({ kind: w.kind, label: w.label }) && <p className="muted">{w.label}</p>}
      </div>
      <dl>
        <div>
          <dt>{m.security.category}</dt>
          <dd data-testid="method-category">{w.categories.map((c) => m.security.categories[c] ?? c).join(' + ')}</dd>
        </div>
        <div>
          <dt>{m.security.status}</dt>
          <dd>
            <span className={`badge badge-${w.status}`} data-testid="method-status">
              {m.security.statuses[w.status] ?? w.status}
            </span>
          </dd>
        </div>
        {w.destination && (
          <div>
            <dt>{m.security.destination}</dt>
            <dd data-testid="method-destination">
              •• {tail(w.destination)}
              {w.voiceMode ? ` (${m.security.callMode[w.voiceMode] ?? w.voiceMode})` : ''}
            </dd>
          </div>
        )}
        <div>
          <dt>{m.security.usableFor}</dt>
          <dd data-testid="method-usable-for">{purposes.join(', ') || '—'}</dd>
        </div>
        {a && (
          <>
            <div>
              <dt>{m.security.added}</dt>
              <dd>{date(a.createdAt)}</dd>
            </div>
            <div>
              <dt>{m.security.lastUsed}</dt>
              <dd>{a.lastUsedAt ? time(a.lastUsedAt) : m.security.never}</dd>
            </div>
          </>
        )}
      </dl>
    </li>
  );
}

/** The server names methods by their kind unless the customer chose a name: don't say it twice. */
function isDefaultLabel(a: { kind: string; label: string | null }): boolean {
  const label = a.label?.trim().toLowerCase() ?? '';
  return Object.values(MESSAGES).some((msgs) => (msgs.security.kinds[a.kind] ?? '').toLowerCase().startsWith(label));
}

/**
 * Enrolling a TOTP app: confirm with the current elements (when the customer already has two), scan the
 * QR code or type the key, then activate with the first code the new app shows.
 */
function TotpEnrolmentCard({ needsSca, ways, onChanged }: { needsSca: boolean; ways: WaysIn; onChanged(): void }) {
  const { m } = useI18n();
  const operation: StepUpOperation = { type: 'manage_authenticators', action: 'add', kind: 'totp' };
  const methods = choicesFor(ways, 'manage_authenticators');
  const [label, setLabel] = useState('');
  const [stepUp, setStepUp] = useState<StepUpState>(() => newStepUp(methods));
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
    const proof = needsSca ? stepUpBody(stepUp, operation) : null;
    if (needsSca && !proof) return;
    void run(async () => {
      const body = { ...(label.trim() ? { label: label.trim() } : {}), ...(proof ? { stepUp: proof } : {}) };
      setEnrolment(await api.enrolTotp(body));
      setStepUp(newStepUp(methods));
      setActivated(false);
      onChanged();
    }).then((ok) => {
      if (!ok) setStepUp(newStepUp(methods));
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
    <div className="card enrol" id="totp-enrolment" data-testid="totp-enrolment">
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
              <p className="hint spaced">{m.security.stepUpConfirm}</p>
              <StepUpFields prefix="enrol" methods={methods} operation={operation} value={stepUp} onChange={setStepUp} busy={busy} />
            </>
          )}
          <ProblemAlert error={error} testId="enrol-error" />
          {!isKeypad(stepUp.sca) && (
            <button type="submit" className="btn btn-primary" disabled={busy} data-testid="enrol-start">
              {m.security.start}
            </button>
          )}
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

/** A mobile for SMS codes or any line for calls: the number is proven by the code sent to it. */
function PhoneEnrolmentCard({
  kind,
  ways,
  needsSca,
  onChanged,
  onClose,
}: {
  kind: 'sms' | 'voice';
  ways: WaysIn;
  needsSca: boolean;
  onChanged(): void;
  onClose(): void;
}) {
  const { m, lang } = useI18n();
  const methods = choicesFor(ways, 'manage_authenticators');
  const [phone, setPhone] = useState('');
  // The number is part of what the customer confirms: the step-up authorises this number only.
  const operation: StepUpOperation = { type: 'manage_authenticators', action: 'add', kind, ...(phone ? { target: phone } : {}) };
  const [voiceMode, setVoiceMode] = useState<'read-out' | 'keypad'>('read-out');
  const [stepUp, setStepUp] = useState<StepUpState>(() => newStepUp(methods));
  const [enrolment, setEnrolment] = useState<PhoneEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    const proof = needsSca ? stepUpBody(stepUp, operation) : null;
    if (needsSca && !proof) return;
    setBusy(true);
    setError(null);
    try {
      setEnrolment(
        await api.enrolPhone({
          method: kind,
          phone,
          locale: lang,
          ...(kind === 'voice' ? { voiceMode } : {}),
          ...(proof ? { stepUp: proof } : {}),
        }),
      );
      onChanged();
    } catch (err) {
      setError(err);
      setStepUp(newStepUp(methods));
    } finally {
      setBusy(false);
    }
  };

  const activate = async (e: FormEvent) => {
    e.preventDefault();
    if (!enrolment) return;
    setBusy(true);
    setError(null);
    try {
      await api.activatePhone(enrolment.authenticatorId, code);
      setDone(true);
      setEnrolment(null);
      onChanged();
    } catch (err) {
      setError(err);
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card enrol" data-testid={`phone-enrolment-${kind}`}>
      <h2>{m.security.phoneTitle[kind]}</h2>
      {done ? (
        <>
          <p className="alert alert-success" role="status" data-testid="phone-add-done">
            {m.security.phoneActivated}
          </p>
          <button type="button" className="btn btn-secondary" onClick={onClose} data-testid="phone-add-close">
            {m.back}
          </button>
        </>
      ) : !enrolment ? (
        <form onSubmit={start}>
          <Field
            label={m.security.phoneNumber}
            testId="phone-add-number"
            type="tel"
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
            autoComplete="tel"
            required
          />
          {kind === 'voice' && (
            <fieldset className="field">
              <legend>{m.security.voiceMode}</legend>
              <label>
                <input
                  type="radio"
                  name="voice-mode"
                  checked={voiceMode === 'read-out'}
                  onChange={() => setVoiceMode('read-out')}
                  data-testid="phone-add-mode-read-out"
                />{' '}
                {m.security.readOut}
              </label>
              <br />
              <label>
                <input
                  type="radio"
                  name="voice-mode"
                  checked={voiceMode === 'keypad'}
                  onChange={() => setVoiceMode('keypad')}
                  data-testid="phone-add-mode-keypad"
                />{' '}
                {m.security.keypad}
              </label>
            </fieldset>
          )}
          {needsSca && (
            <>
              <p className="hint spaced">{m.security.stepUpConfirm}</p>
              <StepUpFields prefix="phone-add" methods={methods} operation={operation} value={stepUp} onChange={setStepUp} busy={busy} />
            </>
          )}
          <ProblemAlert error={error} testId="phone-add-error" />
          <div className="actions">
            <button type="button" className="btn btn-secondary" onClick={onClose} data-testid="phone-add-cancel">
              {m.cancel}
            </button>
            {!isKeypad(stepUp.sca) && (
              <button type="submit" className="btn btn-primary" disabled={busy} data-testid="phone-add-start">
                {m.security.phoneStart}
              </button>
            )}
          </div>
        </form>
      ) : (
        <form onSubmit={activate}>
          <CodeField
            label={m.security.phoneCode[kind](tail(enrolment.destination))}
            testId="phone-add-activate-code"
            value={code}
            onChange={setCode}
            autoFocus
          />
          <ProblemAlert error={error} testId="phone-add-error" />
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="phone-add-activate">
            {m.security.activate}
          </button>
        </form>
      )}
    </div>
  );
}

/**
 * The secure mobile number: changed with the password and a method that does not go through the old
 * number, then proven by the code sent to the new one; "no longer my number" goes to an advisor; the
 * yearly check sends a code to it.
 */
function SecurePhoneCard({ ways, onChanged }: { ways: WaysIn; onChanged(): void }) {
  const { m, lang } = useI18n();
  const methods = choicesFor(ways, 'change_phone');
  const [mode, setMode] = useState<'idle' | 'change'>('idle');
  const [phone, setPhone] = useState('');
  const [stepUp, setStepUp] = useState<StepUpState>(() => newStepUp(methods));
  const [proof, setProof] = useState<(PhoneProof & { purpose: 'change' | 'reconfirm' }) | null>(null);
  const [code, setCode] = useState('');
  const [result, setResult] = useState<
    { kind: 'changed'; number: string } | { kind: 'checked' } | { kind: 'lost'; nextStep: string } | null
  >(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const secure = ways.securePhone;
  const operation: StepUpOperation = { type: 'change_phone', phone };

  const run = async (action: () => Promise<void>, onError?: () => void) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
      onError?.();
    } finally {
      setBusy(false);
    }
  };

  const startChange = (e: FormEvent) => {
    e.preventDefault();
    const body = stepUpBody(stepUp, operation);
    if (!body) return;
    void run(
      async () => {
        setProof({ ...(await api.changePhone(phone, lang, body)), purpose: 'change' });
        setCode('');
      },
      () => setStepUp(newStepUp(methods)),
    );
  };

  const confirm = (e: FormEvent) => {
    e.preventDefault();
    if (!proof) return;
    void run(
      async () => {
        const done = await api.confirmPhone(proof.id, code);
        setResult(proof.purpose === 'change' ? { kind: 'changed', number: tail(done.number ?? proof.destination) } : { kind: 'checked' });
        setProof(null);
        setMode('idle');
        setPhone('');
        setStepUp(newStepUp(methods));
        onChanged();
      },
      () => setCode(''),
    );
  };

  return (
    <div className="card secure-phone" data-testid="secure-phone">
      <h2>{m.security.secureTitle}</h2>
      <p data-testid="secure-number">{secure.number ? m.security.secureIs(tail(secure.number)) : m.security.secureNone}</p>
      {secure.checkDue && !result && (
        <p className="alert alert-info" data-testid="secure-check-due">
          {m.security.checkDue}
        </p>
      )}
      {secure.coolingOff && (
        <p className="muted small" data-testid="secure-cooling-off">
          {m.security.coolingOff}
        </p>
      )}
      {result?.kind === 'changed' && (
        <p className="alert alert-success" role="status" data-testid="phone-changed">
          {m.security.changed(result.number)}
        </p>
      )}
      {result?.kind === 'checked' && (
        <p className="alert alert-success" role="status" data-testid="phone-checked">
          {m.security.checked}
        </p>
      )}
      {result?.kind === 'lost' && (
        <div className="alert alert-info" role="status" data-testid="phone-lost-next">
          <p>{m.security.lostDone}</p>
          <p lang="en">{result.nextStep}</p>
        </div>
      )}

      {proof ? (
        <form onSubmit={confirm}>
          <CodeField
            label={m.security.proofCode(tail(proof.destination))}
            testId="phone-proof-code"
            value={code}
            onChange={setCode}
            autoFocus
          />
          <ProblemAlert error={error} testId="secure-phone-error" />
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="phone-proof-confirm">
            {m.security.proofConfirm}
          </button>
        </form>
      ) : mode === 'change' ? (
        <form onSubmit={startChange} data-testid="phone-change-form">
          <Field
            label={m.security.newNumber}
            testId="phone-new"
            type="tel"
            value={phone}
            onChange={(e) => setPhone(e.target.value)}
            autoComplete="tel"
            required
          />
          <p className="hint spaced">{m.security.changeConfirm}</p>
          <StepUpFields prefix="phone-change" methods={methods} operation={operation} value={stepUp} onChange={setStepUp} busy={busy} />
          <ProblemAlert error={error} testId="secure-phone-error" />
          <div className="actions">
            <button type="button" className="btn btn-secondary" onClick={() => setMode('idle')} data-testid="phone-change-cancel">
              {m.cancel}
            </button>
            {!isKeypad(stepUp.sca) && (
              <button type="submit" className="btn btn-primary" disabled={busy || !phone} data-testid="phone-change-start">
                {m.security.changeStart}
              </button>
            )}
          </div>
        </form>
      ) : (
        <>
          <ProblemAlert error={error} testId="secure-phone-error" />
          <div className="actions">
            {secure.checkDue && (
              <button
                type="button"
                className="btn btn-primary"
                disabled={busy}
                data-testid="phone-check"
                onClick={() =>
                  void run(async () => {
                    setResult(null);
                    setProof({ ...(await api.reconfirmPhone(lang)), purpose: 'reconfirm' });
                    setCode('');
                  })
                }
              >
                {m.security.check}
              </button>
            )}
            <button
              type="button"
              className="btn btn-secondary"
              disabled={busy}
              data-testid="phone-change"
              onClick={() => {
                setResult(null);
                setError(null);
                setMode('change');
              }}
            >
              {m.security.change}
            </button>
            {secure.number && (
              <button
                type="button"
                className="btn btn-quiet"
                disabled={busy}
                data-testid="phone-lost"
                onClick={() =>
                  void run(async () => {
                    setResult({ kind: 'lost', nextStep: (await api.lostPhone()).nextStep });
                  })
                }
              >
                {m.security.lost}
              </button>
            )}
          </div>
        </>
      )}
    </div>
  );
}
