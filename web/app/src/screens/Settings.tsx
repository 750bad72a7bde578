import { useEffect, useState } from 'react';
import { PIN_PATTERN, type DeviceInfo } from '../../../../sdk/device/src/index.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { PinPad } from '../components/PinPad.js';
import { biometricsAvailable, device, webAuthnBiometric } from '../device.js';
import { useI18n } from '../i18n.js';

/**
 * This device: what the server knows of it, biometrics (enrolment and two independent uses), the PIN,
 * moving to a new phone, and closing the app authenticator.
 */
export function Settings({
  info,
  onInfo,
  onClosed,
}: {
  info: DeviceInfo;
  onInfo(i: DeviceInfo): void;
  onClosed(fallback: { method: string; destination: string | null }): void;
}) {
  const { m, date } = useI18n();
  return (
    <section aria-labelledby="settings-title" data-testid="settings">
      <h1 id="settings-title">{m.settings.title}</h1>

      <div className="card">
        <h2>{m.settings.device}</h2>
        <dl className="info">
          <div>
            <dt>{m.settings.customer}</dt>
            <dd data-testid="info-customer">{info.customer.displayName}</dd>
          </div>
          <div>
            <dt>{m.settings.deviceName}</dt>
            <dd data-testid="info-device">{info.deviceName}</dd>
          </div>
          <div>
            <dt>{m.settings.status}</dt>
            <dd data-testid="info-status" data-value={info.status}>
              {m.settings.statuses[info.status] ?? info.status}
            </dd>
          </div>
          {info.activatedAt && (
            <div>
              <dt>{m.settings.activatedAt}</dt>
              <dd data-testid="info-activated">{date(info.activatedAt)}</dd>
            </div>
          )}
          <div>
            <dt>{m.settings.trusted}</dt>
            <dd data-testid="info-trusted" data-value={String(info.trusted)}>
              {info.trusted ? m.settings.trustedYes : m.settings.trustedNo}
            </dd>
          </div>
        </dl>
      </div>

      <Biometrics info={info} onInfo={onInfo} />
      <ChangePin />

      <div className="card" data-testid="transfer-help">
        <h2>{m.settings.transfer}</h2>
        <p>{m.settings.transferText}</p>
      </div>

      <Close onClosed={onClosed} />
    </section>
  );
}

type Uses = { login: boolean; operations: boolean };
/** What waits for the PIN: enrolling biometrics, or turning a use on. */
type PinFor = { kind: 'enrol' } | { kind: 'uses'; uses: Uses };

function Biometrics({ info, onInfo }: { info: DeviceInfo; onInfo(i: DeviceInfo): void }) {
  const { m } = useI18n();
  const [available, setAvailable] = useState<boolean | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  // Adding a way to approve (enrolling, or a use going from off to on) needs the current PIN.
  const [pinFor, setPinFor] = useState<PinFor | null>(null);
  const [pin, setPin] = useState('');
  useEffect(() => {
    void biometricsAvailable().then(setAvailable);
  }, []);

  const run = async (task: () => Promise<DeviceInfo>) => {
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onInfo(await task());
      setSaved(true);
      setPinFor(null);
    } catch (e) {
      setError(e);
    } finally {
      setPin('');
      setBusy(false);
    }
  };
  const b = info.biometrics;

  const ask = (what: PinFor) => {
    setError(null);
    setSaved(false);
    setPin('');
    setPinFor(what);
  };
  const setUses = (uses: Uses) => {
    const turningOn = (uses.login && !b.login) || (uses.operations && !b.operations);
    if (turningOn) ask({ kind: 'uses', uses });
    else {
      setPinFor(null);
      void run(() => device.setBiometricUses(uses));
    }
  };
  const confirm = (p: string) => {
    if (!pinFor || busy || !PIN_PATTERN.test(p)) return;
    const what = pinFor;
    void run(() =>
      what.kind === 'enrol'
        ? device.enrolBiometrics(webAuthnBiometric, { login: true, operations: true }, p)
        : device.setBiometricUses(what.uses, p),
    );
  };

  return (
    <div className="card" data-testid="biometrics" data-enrolled={String(b.enrolled)}>
      <h2>{m.settings.biometrics}</h2>
      <p>{m.settings.biometricsIntro}</p>
      {!b.enrolled && available === false && (
        <p className="muted" data-testid="biometrics-unavailable">
          {m.settings.biometricsUnavailable}
        </p>
      )}
      {!b.enrolled && available && !pinFor && (
        <button
          type="button"
          className="btn btn-primary"
          disabled={busy}
          data-testid="biometrics-enrol"
          onClick={() => ask({ kind: 'enrol' })}
        >
          {m.settings.enrol}
        </button>
      )}
      {b.enrolled && (
        <>
          <p className="alert alert-success" data-testid="biometrics-enrolled">
            {m.settings.enrolled}
          </p>
          <label className="toggle">
            <input
              type="checkbox"
              data-testid="biometrics-login"
              checked={b.login}
              disabled={busy}
              onChange={(e) => setUses({ login: e.target.checked, operations: b.operations })}
            />
            {m.settings.useForLogin}
          </label>
          <label className="toggle">
            <input
              type="checkbox"
              data-testid="biometrics-operations"
              checked={b.operations}
              disabled={busy}
              onChange={(e) => setUses({ login: b.login, operations: e.target.checked })}
            />
            {m.settings.useForOperations}
          </label>
        </>
      )}
      {pinFor && (
        <div className="biometrics-pin" data-testid="biometrics-pin-prompt" data-for={pinFor.kind}>
          <p className="muted small">{m.settings.biometricsPinWhy}</p>
          <PinPad
            label={m.settings.biometricsPin}
            testId="biometrics-pin"
            value={pin}
            onChange={setPin}
            onComplete={confirm}
            disabled={busy}
            autoFocus
          />
          <div className="actions">
            <button
              type="button"
              className="btn btn-link"
              disabled={busy}
              data-testid="biometrics-pin-cancel"
              onClick={() => {
                setPinFor(null);
                setPin('');
                setError(null);
              }}
            >
              {m.cancel}
            </button>
            <button
              type="button"
              className="btn btn-primary"
              disabled={busy || !PIN_PATTERN.test(pin)}
              data-testid="biometrics-pin-submit"
              onClick={() => confirm(pin)}
            >
              {m.settings.biometricsPinSubmit}
            </button>
          </div>
        </div>
      )}
      {saved && !error && (
        <p className="muted small" role="status" data-testid="biometrics-saved">
          {m.settings.saved}
        </p>
      )}
      <ErrorAlert error={error} testId="biometrics-error" />
    </div>
  );
}

function ChangePin() {
  const { m } = useI18n();
  const [open, setOpen] = useState(false);
  const [step, setStep] = useState<'old' | 'new' | 'again'>('old');
  const [oldPin, setOldPin] = useState('');
  const [newPin, setNewPin] = useState('');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const reset = () => {
    setStep('old');
    setOldPin('');
    setNewPin('');
    setValue('');
  };
  const complete = async (p: string) => {
    setValue('');
    if (step === 'old') {
      setOldPin(p);
      setStep('new');
      return;
    }
    if (step === 'new') {
      setNewPin(p);
      setStep('again');
      return;
    }
    if (p !== newPin || !PIN_PATTERN.test(p)) {
      setProblem(m.activate.pinMismatch);
      setNewPin('');
      setStep('new');
      return;
    }
    setProblem(null);
    setBusy(true);
    setError(null);
    try {
      await device.changePin(oldPin, p);
      setDone(true);
      setOpen(false);
      reset();
    } catch (e) {
      setError(e);
      reset();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" data-testid="change-pin">
      <h2>{m.settings.changePin}</h2>
      {done && (
        <p className="alert alert-success" role="status" data-testid="pin-changed">
          {m.settings.pinChanged}
        </p>
      )}
      {!open ? (
        <button
          type="button"
          className="btn btn-secondary"
          data-testid="change-pin-open"
          onClick={() => {
            setOpen(true);
            setDone(false);
            setError(null);
          }}
        >
          {m.settings.changePin}
        </button>
      ) : (
        <>
          {problem && (
            <p className="alert alert-error" role="alert">
              {problem}
            </p>
          )}
          <PinPad
            key={step}
            label={step === 'old' ? m.settings.oldPin : step === 'new' ? m.settings.newPin : m.settings.newPinAgain}
            testId={`change-pin-${step}`}
            value={value}
            onChange={setValue}
            onComplete={(p) => void complete(p)}
            disabled={busy}
            autoFocus
          />
          <button
            type="button"
            className="btn btn-link"
            disabled={busy}
            onClick={() => {
              setOpen(false);
              reset();
            }}
          >
            {m.cancel}
          </button>
        </>
      )}
      <ErrorAlert error={error} testId="change-pin-error" />
    </div>
  );
}

function Close({ onClosed }: { onClosed(f: { method: string; destination: string | null }): void }) {
  const { m } = useI18n();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const close = async () => {
    setBusy(true);
    setError(null);
    try {
      onClosed((await device.close()).fallback);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="card danger-zone" data-testid="close">
      <h2>{m.settings.close}</h2>
      <p>{m.settings.closeText}</p>
      {!confirming ? (
        <button type="button" className="btn btn-danger-quiet" data-testid="close-open" onClick={() => setConfirming(true)}>
          {m.settings.close}
        </button>
      ) : (
        <div className="actions" role="alertdialog" aria-label={m.settings.close}>
          <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => setConfirming(false)} data-testid="close-keep">
            {m.cancel}
          </button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void close()} data-testid="close-confirm">
            {m.settings.closeConfirm}
          </button>
        </div>
      )}
      <ErrorAlert error={error} testId="close-error" />
    </div>
  );
}
