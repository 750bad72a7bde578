import { useEffect, useRef, useState } from 'react';
import { DeviceApiError, type DeviceInfo, type PendingApproval } from '../../../../sdk/device/src/index.js';
import { ErrorAlert } from '../components/ErrorAlert.js';
import { OperationDetails } from '../components/OperationDetails.js';
import { PinPad } from '../components/PinPad.js';
import { device, enablePush, pushState, webAuthnBiometric, type PushState } from '../device.js';
import { useI18n } from '../i18n.js';

/** How long to wait before asking again after a failure, or while an operation is already shown. */
const RETRY_MS = 3000;
/** Polling without `wait`, when the server does not long-poll. */
const SHORT_POLL_MS = 2000;

/**
 * The operations waiting for the customer: a long poll (`wait=20`) in a loop while the app is open, and
 * Web Push when the browser has it (the service worker's message makes the list refresh at once).
 */
export function Home({ info, justActivated, onRevoked }: { info: DeviceInfo; justActivated: boolean; onRevoked(): void }) {
  const { m } = useI18n();
  const [approvals, setApprovals] = useState<PendingApproval[] | null>(null);
  const [offline, setOffline] = useState<unknown>(null);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [push, setPush] = useState<PushState>(() => pushState());
  const kick = useRef<() => void>(() => undefined);
  const revoked = useRef(onRevoked);
  useEffect(() => {
    revoked.current = onRevoked;
  });

  useEffect(() => {
    let stopped = false;
    let wake: (() => void) | null = null;
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = window.setTimeout(done, ms);
        function done() {
          window.clearTimeout(t);
          wake = null;
          resolve();
        }
        wake = done;
      });
    const refreshNow = () => {
      device.pendingApprovals().then(
        (list) => !stopped && setApprovals(list),
        () => undefined,
      );
      wake?.();
    };
    kick.current = refreshNow;
    void (async () => {
      let first = true;
      let longPoll = true;
      while (!stopped) {
        const waiting = !first && longPoll;
        try {
          // The first call answers at once (the list as it is); the next ones wait for news.
          const list = await device.pendingApprovals(waiting ? { waitSeconds: 20 } : {});
          if (stopped) return;
          first = false;
          setOffline(null);
          setApprovals(list);
          // The server answers at once while something is pending: do not spin. Without long polling, a short poll.
          if (list.length > 0 || !longPoll) await sleep(longPoll ? RETRY_MS : SHORT_POLL_MS);
        } catch (e) {
          if (stopped) return;
          if (e instanceof DeviceApiError && e.code === 'ERR_DEVICE_UNKNOWN') {
            // Closed, or moved to another phone: this installation no longer exists on the server.
            revoked.current();
            return;
          }
          if (waiting && e instanceof DeviceApiError && e.status === 400) {
            // A server that refuses `wait`: poll without it.
            longPoll = false;
            continue;
          }
          setOffline(e ?? new Error('offline'));
          await sleep(RETRY_MS);
        }
      }
    })();
    const onMessage = (e: MessageEvent) => {
      if ((e.data as { type?: string } | null)?.type === 'sesame-push') refreshNow();
    };
    navigator.serviceWorker?.addEventListener('message', onMessage);
    const onVisible = () => document.visibilityState === 'visible' && refreshNow();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      wake?.();
      navigator.serviceWorker?.removeEventListener('message', onMessage);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);

  // Permission granted earlier: (re)register the subscription silently.
  useEffect(() => {
    if (pushState() === 'on') void enablePush(false).then(setPush);
  }, []);

  const settle = (o: Outcome) => {
    setOutcomes((prev) => [o, ...prev.filter((p) => p.approvalId !== o.approvalId)].slice(0, 5));
    setApprovals((prev) => prev?.filter((a) => a.approvalId !== o.approvalId) ?? prev);
    kick.current();
  };

  const shown = (approvals ?? []).filter((a) => !outcomes.some((o) => o.approvalId === a.approvalId));
  return (
    <section aria-labelledby="home-title" data-testid="home">
      <p className="greeting" data-testid="home-hello">
        {m.home.hello(info.customer.displayName)}
      </p>
      {justActivated && (
        <p className="alert alert-success" role="status" data-testid="activated">
          {m.home.activated}
        </p>
      )}
      <h1 id="home-title">{m.home.pendingTitle}</h1>
      {offline instanceof DeviceApiError ? (
        <ErrorAlert error={offline} testId="offline" />
      ) : (
        offline !== null && (
          <p className="alert alert-error" role="status" data-testid="offline">
            {m.home.offline}
          </p>
        )
      )}
      {outcomes.map((o) => (
        <div
          key={o.approvalId}
          className={`alert ${o.status === 'approved' ? 'alert-success' : 'alert-info'}`}
          role="status"
          data-testid="outcome"
          data-status={o.status}
          data-fraud={String(o.fraudDeclared)}
        >
          {o.fraudDeclared && <span className="badge badge-danger">{m.approval.fraudDeclared}</span>}
          <p data-testid="outcome-text">{o.status === 'approved' ? m.approval.approved : o.message || m.approval.refused}</p>
        </div>
      ))}
      {approvals === null && offline === null && <p className="loading">{m.loading}</p>}
      {approvals !== null && shown.length === 0 && (
        <p className="muted empty" data-testid="no-approvals">
          {m.home.none}
        </p>
      )}
      <ul className="approvals">
        {shown.map((a) => (
          <li key={a.approvalId}>
            <ApprovalCard approval={a} info={info} onSettled={settle} />
          </li>
        ))}
      </ul>
      <p className="muted small listening" aria-hidden="true">
        {m.home.waiting}
      </p>
      {push === 'prompt' && (
        <button
          type="button"
          className="btn btn-secondary btn-block"
          data-testid="push-enable"
          onClick={() => void enablePush(true).then(setPush)}
        >
          {m.home.pushAsk}
        </button>
      )}
      {push === 'on' && <p className="muted small">{m.home.pushOn}</p>}
      {push === 'denied' && <p className="muted small">{m.home.pushDenied}</p>}
    </section>
  );
}

interface Outcome {
  approvalId: string;
  status: 'approved' | 'refused';
  fraudDeclared: boolean;
  message: string;
}

type Mode = { name: 'choose' } | { name: 'pin' } | { name: 'refuse' };

function ApprovalCard({ approval, info, onSettled }: { approval: PendingApproval; info: DeviceInfo; onSettled(o: Outcome): void }) {
  const { m, time } = useI18n();
  const [mode, setMode] = useState<Mode>({ name: 'choose' });
  const [number, setNumber] = useState<number | null>(null);
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const isLogin = approval.data.type === 'login';
  const isCard = approval.data.type === 'online_card_payment';
  const bio = info.biometrics.enrolled && (isLogin ? info.biometrics.login : info.biometrics.operations);
  const needsNumber = !!approval.numberOptions?.length;
  const ready = !needsNumber || number !== null;
  const opts = number !== null ? { numberChoice: number } : {};

  const approveWith = async (how: { pin: string } | 'biometric') => {
    setBusy(true);
    setError(null);
    try {
      await device.approve(approval, how === 'biometric' ? { biometric: webAuthnBiometric } : how, opts);
      onSettled({ approvalId: approval.approvalId, status: 'approved', fraudDeclared: false, message: '' });
    } catch (e) {
      setError(e);
      setPin('');
    } finally {
      setBusy(false);
    }
  };

  const refuse = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await device.refuse(approval);
      onSettled({ approvalId: approval.approvalId, status: 'refused', fraudDeclared: res.fraudDeclared, message: res.message });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="card approval" data-testid="approval" data-approval-id={approval.approvalId} data-type={approval.data.type}>
      <OperationDetails data={approval.data} testId="approval-op" />
      <p className="muted small">
        {m.home.requester} <strong data-testid="approval-requester">{approval.requester}</strong> · {m.home.expires}{' '}
        {time(approval.expiresAt)}
      </p>

      {needsNumber && mode.name !== 'refuse' && (
        <div className="numbers" role="group" aria-label={m.approval.pickNumber}>
          <p>{m.approval.pickNumber}</p>
          <div className="number-options">
            {approval.numberOptions!.map((n) => (
              <button
                key={n}
                type="button"
                className={`btn number ${number === n ? 'btn-primary' : 'btn-secondary'}`}
                aria-pressed={number === n}
                disabled={busy}
                data-testid={`number-${n}`}
                onClick={() => setNumber(n)}
              >
                {n}
              </button>
            ))}
          </div>
        </div>
      )}

      <ErrorAlert error={error} testId="approval-error" />

      {mode.name === 'choose' && (
        <div className="approval-actions">
          {bio && (
            <button
              type="button"
              className="btn btn-primary btn-block"
              disabled={busy || !ready}
              data-testid="approve-biometric"
              onClick={() => void approveWith('biometric')}
            >
              {m.approval.withBiometrics}
            </button>
          )}
          <button
            type="button"
            className={`btn ${bio ? 'btn-secondary' : 'btn-primary'} btn-block`}
            disabled={busy || !ready}
            data-testid="approve-pin"
            onClick={() => {
              setError(null);
              setMode({ name: 'pin' });
            }}
          >
            {m.approval.withPin}
          </button>
          <button
            type="button"
            className="btn btn-danger-quiet btn-block"
            disabled={busy}
            data-testid="refuse"
            onClick={() => setMode({ name: 'refuse' })}
          >
            {m.approval.refuse}
          </button>
        </div>
      )}

      {mode.name === 'pin' && (
        <div className="approval-pin">
          <PinPad
            label={m.approval.enterPin}
            testId="approval-pin"
            value={pin}
            onChange={setPin}
            onComplete={(p) => void approveWith({ pin: p })}
            disabled={busy || !ready}
            autoFocus
          />
          {busy && (
            <p className="muted" role="status">
              {m.approval.sending}
            </p>
          )}
          <button type="button" className="btn btn-link" disabled={busy} data-testid="pin-back" onClick={() => setMode({ name: 'choose' })}>
            {m.back}
          </button>
        </div>
      )}

      {mode.name === 'refuse' && (
        <div className="refuse-confirm" role="alertdialog" aria-labelledby={`refuse-${approval.approvalId}`} data-testid="refuse-confirm">
          <h2 id={`refuse-${approval.approvalId}`}>{m.approval.refuseTitle}</h2>
          <p>{isCard ? m.approval.refuseCardText : m.approval.refuseText}</p>
          <div className="actions">
            <button
              type="button"
              className="btn btn-secondary"
              disabled={busy}
              data-testid="refuse-keep"
              onClick={() => setMode({ name: 'choose' })}
            >
              {m.approval.keep}
            </button>
            <button type="button" className="btn btn-danger" disabled={busy} data-testid="refuse-yes" onClick={() => void refuse()}>
              {isCard ? m.approval.refuseCardConfirm : m.approval.refuseConfirm}
            </button>
          </div>
        </div>
      )}
    </article>
  );
}
