import { useEffect, useRef, useState } from 'react';
import { appApi, type AppApprovalPoll, type AppApprovalSent, type Me, type TransferDone } from '../api.js';
import { useAppMessages } from './app-messages.js';
import { ProblemAlert } from './ProblemAlert.js';

/** How often the page asks the bank (which asks Sésame) whether the customer approved. */
const POLL_MS = 1500;

/**
 * "Approve in my app": a button, then a waiting screen that sends the operation to the app, shows the
 * number to pick (logins), polls the bank and finishes by itself once approved — or says it was refused.
 */
export function AppApprovalWait<T>({
  prefix,
  send,
  poll,
  onApproved,
  onCancel,
}: {
  prefix: string;
  send(): Promise<AppApprovalSent>;
  poll(approvalId: string): Promise<AppApprovalPoll<T>>;
  onApproved(result: T): void;
  onCancel(): void;
}) {
  const a = useAppMessages();
  const [sent, setSent] = useState<AppApprovalSent | null>(null);
  const [final, setFinal] = useState<'refused' | 'expired' | 'failed' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [round, setRound] = useState(0);
  const approved = useRef(onApproved);
  useEffect(() => {
    approved.current = onApproved;
  });

  useEffect(() => {
    let stopped = false;
    let timer = 0;
    setSent(null);
    setFinal(null);
    setError(null);
    void (async () => {
      let s: AppApprovalSent;
      try {
        s = await send();
      } catch (e) {
        if (!stopped) setError(e);
        return;
      }
      if (stopped) return;
      setSent(s);
      const tick = async () => {
        if (stopped) return;
        try {
          const r = await poll(s.approvalId);
          if (stopped) return;
          if (r.status === 'approved') return approved.current(r);
          if (r.status !== 'pending') return setFinal(r.status);
        } catch (e) {
          if (stopped) return;
          return setError(e);
        }
        timer = window.setTimeout(() => void tick(), POLL_MS);
      };
      timer = window.setTimeout(() => void tick(), POLL_MS);
    })();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
    // `send` and `poll` are fixed for one operation; `round` sends again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [round]);

  return (
    <div className="card app-wait" role="status" aria-live="polite" data-testid={`${prefix}-app-wait`}>
      <h2>{a.waitingTitle}</h2>
      {!final && !error && <p>{a.waitingText}</p>}
      {sent?.number != null && !final && (
        <div className="keypad-code">
          <p>{a.pickNumber}</p>
          <p className="display-code mono" data-testid={`${prefix}-app-number`}>
            {sent.number}
          </p>
        </div>
      )}
      {sent && !final && !error && (
        <p className="muted" data-testid={`${prefix}-app-waiting`}>
          {a.waiting}
        </p>
      )}
      {final && (
        <p className="alert alert-error" data-testid={`${prefix}-app-${final}`}>
          {final === 'refused' ? a.refused : final === 'failed' ? a.failed : a.expired}
        </p>
      )}
      <ProblemAlert error={error} testId={`${prefix}-app-error`} />
      <div className="actions">
        <button type="button" className="btn btn-secondary" onClick={onCancel} data-testid={`${prefix}-app-cancel`}>
          {a.otherMethod}
        </button>
        {(final !== null || error !== null) && (
          <button type="button" className="btn btn-primary" onClick={() => setRound((r) => r + 1)} data-testid={`${prefix}-app-retry`}>
            {a.retry}
          </button>
        )}
      </div>
    </div>
  );
}

/** Is the app offered here? Asked once; an error just means "no". */
function useAvailable(ask: () => Promise<{ available: boolean }>): boolean {
  const [available, setAvailable] = useState(false);
  useEffect(() => {
    let live = true;
    ask().then(
      (r) => live && setAvailable(r.available),
      () => undefined,
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return available;
}

/** The login's second screen: "approve in my app" when the customer has it (identifier step as before). */
export function AppLoginOption({ onLoggedIn, onWaiting }: { onLoggedIn(me: Me): void; onWaiting?(waiting: boolean): void }) {
  const a = useAppMessages();
  const available = useAvailable(appApi.loginAvailable);
  const [waiting, setWaiting] = useState(false);
  const set = (w: boolean) => {
    setWaiting(w);
    onWaiting?.(w);
  };
  if (!available) return null;
  if (!waiting) {
    return (
      <div className="app-option">
        <button type="button" className="btn btn-primary btn-block" onClick={() => set(true)} data-testid="login-method-app">
          {a.useApp}
        </button>
        <p className="muted small">{a.orBelow}</p>
      </div>
    );
  }
  return (
    <AppApprovalWait<{ me: Me }>
      prefix="login"
      send={appApi.loginApproval}
      poll={appApi.loginApprovalStatus}
      onApproved={(r) => onLoggedIn(r.me)}
      onCancel={() => set(false)}
    />
  );
}

/** The transfer's confirmation: "approve in my app", no password needed (the app proves two elements). */
export function AppTransferOption({
  operationId,
  onDone,
  onWaiting,
}: {
  operationId: string;
  onDone(d: TransferDone): void;
  onWaiting?(waiting: boolean): void;
}) {
  const a = useAppMessages();
  const available = useAvailable(appApi.available);
  const [waiting, setWaitingState] = useState(false);
  const setWaiting = (w: boolean) => {
    setWaitingState(w);
    onWaiting?.(w);
  };
  if (!available) return null;
  if (!waiting) {
    return (
      <div className="app-option">
        <button type="button" className="btn btn-primary btn-block" onClick={() => setWaiting(true)} data-testid="confirm-method-app">
          {a.useAppNoPassword}
        </button>
        <p className="muted small">{a.orBelow}</p>
      </div>
    );
  }
  return (
    <AppApprovalWait<{ done: TransferDone }>
      prefix="confirm"
      send={() => appApi.transferApproval(operationId)}
      poll={(id) => appApi.transferApprovalStatus(operationId, id)}
      onApproved={(r) => onDone(r.done)}
      onCancel={() => setWaiting(false)}
    />
  );
}
