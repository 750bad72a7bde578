import { useEffect, useRef, useState, type FormEvent } from 'react';
import { PIN_PATTERN, type DeviceInfo } from '../../../../sdk/device/src/index.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { PinPad } from '../components/PinPad.js';
import { device } from '../device.js';
import { useI18n } from '../i18n.js';

type Step = { name: 'code' } | { name: 'pin'; code: string } | { name: 'sms'; destination: string | null };

/**
 * Activation, transfer to a new phone and reinstall alike: the activation code (typed, pasted, scanned
 * from the bank's QR code or carried by the link that opened the app), a PIN chosen twice, then the code
 * the server sends to the secure mobile when it asks for one.
 */
export function Activation({
  initialCode,
  awaitingConfirmation,
  onActivated,
}: {
  initialCode: string | null;
  /** This device already sent its keys and waits for the SMS code (the app was reopened meanwhile). */
  awaitingConfirmation: boolean;
  onActivated(info: DeviceInfo): void;
}) {
  const { m } = useI18n();
  const [step, setStep] = useState<Step>(() =>
    awaitingConfirmation ? { name: 'sms', destination: null } : initialCode ? { name: 'pin', code: initialCode } : { name: 'code' },
  );
  const restart = async () => {
    await device.forget();
    setStep({ name: 'code' });
  };

  return (
    <section className="card" aria-labelledby="activate-title" data-testid="activation">
      {step.name === 'code' && <CodeStep onCode={(code) => setStep({ name: 'pin', code })} />}
      {step.name === 'pin' && (
        <PinStep
          code={step.code}
          fromLink={step.code === initialCode}
          onBack={() => setStep({ name: 'code' })}
          onStarted={async (started) => {
            if (started.status === 'active') onActivated(await device.info());
            else setStep({ name: 'sms', destination: started.confirmation?.destination ?? null });
          }}
        />
      )}
      {step.name === 'sms' && <SmsStep destination={step.destination} onActivated={onActivated} onRestart={() => void restart()} />}
      <p className="sr-only" id="activate-title">
        {m.activate.title}
      </p>
    </section>
  );
}

/** What a QR code or a link carries: the activation URL (`…/app/#activate=…`, `?code=…`) or the bare code. */
export function activationCodeFrom(text: string): string | null {
  const t = text.trim();
  if (!t) return null;
  try {
    const url = new URL(t);
    const fromHash = new URLSearchParams(url.hash.replace(/^#/, ''));
    const code =
      fromHash.get('activate') ??
      fromHash.get('code') ??
      url.searchParams.get('activate') ??
      url.searchParams.get('code') ??
      url.searchParams.get('activationCode');
    return code?.trim() || null;
  } catch {
    return t;
  }
}

function CodeStep({ onCode }: { onCode(code: string): void }) {
  const { m } = useI18n();
  const [code, setCode] = useState('');
  const [scanning, setScanning] = useState(false);
  const canScan = typeof window !== 'undefined' && 'BarcodeDetector' in window && !!navigator.mediaDevices?.getUserMedia;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const c = activationCodeFrom(code);
    if (c) onCode(c);
  };

  return (
    <form onSubmit={submit} data-testid="activation-code-step">
      <h1>{m.activate.title}</h1>
      <p className="lead">{m.activate.intro}</p>
      {canScan ? (
        scanning ? (
          <QrScanner
            onResult={(text) => {
              setScanning(false);
              const c = activationCodeFrom(text);
              if (c) onCode(c);
            }}
            onStop={() => setScanning(false)}
          />
        ) : (
          <button type="button" className="btn btn-secondary btn-block" data-testid="scan" onClick={() => setScanning(true)}>
            {m.activate.scan}
          </button>
        )
      ) : (
        <p className="muted small" data-testid="scan-unavailable">
          {m.activate.scanUnavailable}
        </p>
      )}
      <div className="field">
        <label htmlFor="activation-code">{m.activate.code}</label>
        <input
          id="activation-code"
          data-testid="activation-code"
          className="mono"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          aria-describedby="activation-code-hint"
          required
        />
        <p className="hint" id="activation-code-hint">
          {m.activate.codeHint}
        </p>
      </div>
      <button type="submit" className="btn btn-primary btn-block" disabled={!code.trim()} data-testid="activation-continue">
        {m.activate.continue}
      </button>
    </form>
  );
}

/** The camera, read by the browser's BarcodeDetector (Chrome on Android, among others). */
function QrScanner({ onResult, onStop }: { onResult(text: string): void; onStop(): void }) {
  const { m } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const [error, setError] = useState<unknown>(null);
  const found = useRef(onResult);
  useEffect(() => {
    found.current = onResult;
  });
  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer = 0;
    let stopped = false;
    type Detector = { detect(source: CanvasImageSource): Promise<{ rawValue: string }[]> };
    const Ctor = (window as unknown as { BarcodeDetector: new (o: { formats: string[] }) => Detector }).BarcodeDetector;
    const detector = new Ctor({ formats: ['qr_code'] });
    void (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
        if (stopped || !video.current) return;
        video.current.srcObject = stream;
        await video.current.play();
        const tick = async () => {
          if (stopped || !video.current) return;
          try {
            const codes = await detector.detect(video.current);
            if (codes[0]?.rawValue) return found.current(codes[0].rawValue);
          } catch {
            // a frame not ready yet
          }
          timer = window.setTimeout(() => void tick(), 250);
        };
        void tick();
      } catch (e) {
        setError(e);
      }
    })();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, []);
  return (
    <div className="scanner">
      <video ref={video} muted playsInline className="scanner-video" />
      <ErrorAlert error={error} testId="scan-error" />
      <button type="button" className="btn btn-link" onClick={onStop}>
        {m.activate.stopScan}
      </button>
    </div>
  );
}

/** Too easy to guess: one digit six times, or a run up or down (123456, 987654). */
function weakPin(pin: string): boolean {
  const d = [...pin].map(Number);
  const steps = new Set(d.slice(1).map((x, i) => x - d[i]!));
  return steps.size === 1 && [0, 1, -1].includes([...steps][0]!);
}

function PinStep({
  code,
  fromLink,
  onBack,
  onStarted,
}: {
  code: string;
  fromLink: boolean;
  onBack(): void;
  onStarted(s: Awaited<ReturnType<typeof device.activate>>): Promise<void>;
}) {
  const { m } = useI18n();
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [first, setFirst] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const chooseFirst = (p: string) => {
    if (weakPin(p)) {
      setProblem(m.activate.pinWeak);
      setPin('');
      return;
    }
    setProblem(null);
    setFirst(p);
  };

  const confirm = async (p: string) => {
    if (p !== first || !PIN_PATTERN.test(p)) {
      setProblem(m.activate.pinMismatch);
      setFirst(null);
      setPin('');
      setAgain('');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const started = await device.activate({
        activationCode: code,
        pin: p,
        deviceName: deviceName(m.activate.deviceName),
        platform: 'web',
      });
      await onStarted(started);
    } catch (e) {
      setError(e);
      setFirst(null);
      setPin('');
      setAgain('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="activation-pin-step">
      <h1>{m.activate.pinTitle}</h1>
      {fromLink && (
        <p className="alert alert-info" data-testid="code-from-link">
          {m.activate.fromLink}
        </p>
      )}
      <p className="lead">{m.activate.pinIntro}</p>
      {problem && (
        <p className="alert alert-error" role="alert" data-testid="pin-problem">
          {problem}
        </p>
      )}
      <ErrorAlert error={error} testId="activation-error" />
      {first === null ? (
        <PinPad
          key="first"
          label={m.activate.pin}
          testId="new-pin"
          value={pin}
          onChange={setPin}
          onComplete={chooseFirst}
          disabled={busy}
          autoFocus
        />
      ) : (
        <PinPad
          key="again"
          label={m.activate.pinAgain}
          testId="new-pin-again"
          value={again}
          onChange={setAgain}
          onComplete={(p) => void confirm(p)}
          disabled={busy}
          autoFocus
        />
      )}
      {busy && (
        <p className="muted" role="status" data-testid="activating">
          {m.activate.activating}
        </p>
      )}
      <button type="button" className="btn btn-link" disabled={busy} onClick={onBack} data-testid="activation-back">
        {m.back}
      </button>
    </div>
  );
}

function SmsStep({
  destination,
  onActivated,
  onRestart,
}: {
  destination: string | null;
  onActivated(i: DeviceInfo): void;
  onRestart(): void;
}) {
  const { m } = useI18n();
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onActivated(await device.confirmActivation(code));
    } catch (err) {
      setError(err);
      setCode('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} data-testid="activation-sms-step">
      <h1>{m.activate.smsTitle}</h1>
      <p className="lead" data-testid="sms-destination">
        {m.activate.smsIntro(destination ?? '••')}
      </p>
      <div className="field">
        <label htmlFor="sms-code">{m.activate.smsCode}</label>
        <input
          id="sms-code"
          data-testid="sms-code"
          className="code"
          value={code}
          onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 8))}
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          autoFocus
        />
      </div>
      <ErrorAlert error={error} testId="sms-error" />
      <button type="submit" className="btn btn-primary btn-block" disabled={busy || code.length < 6} data-testid="sms-confirm">
        {m.activate.confirm}
      </button>
      <button type="button" className="btn btn-link" disabled={busy} onClick={onRestart} data-testid="activation-restart">
        {m.activate.startOver}
      </button>
    </form>
  );
}

/** A name the customer recognises in the list of their devices: the browser and the platform. */
function deviceName(fallback: string): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Chrom(e|ium)\//.test(ua)
      ? 'Chrome'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Safari\//.test(ua)
          ? 'Safari'
          : null;
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Mac OS X/.test(ua)
        ? 'macOS'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : null;
  return browser && os ? `${browser} — ${os}` : fallback;
}
