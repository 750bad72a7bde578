import { useEffect, useState } from 'react';
import { appApi, type CardPaymentSent } from '../api.js';
import { useI18n } from '../i18n.js';
import { useAppMessages } from './app-messages.js';
import { ProblemAlert } from './ProblemAlert.js';

/**
 * Demo: a card payment on a merchant's website, sent to the customer's app — what a card scheme's 3-D
 * Secure request would do. Refusing it in the app declares it as fraud. Shown only to app customers.
 */
export function CardPaymentDemo() {
  const { money } = useI18n();
  const a = useAppMessages();
  const [available, setAvailable] = useState(false);
  const [sent, setSent] = useState<CardPaymentSent | null>(null);
  const [result, setResult] = useState<'approved' | 'refused' | 'fraud' | 'expired' | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    appApi.available().then(
      (r) => setAvailable(r.available),
      () => undefined,
    );
  }, []);

  useEffect(() => {
    if (!sent || result) return undefined;
    let stopped = false;
    let timer = 0;
    const tick = async () => {
      try {
        const r = await appApi.cardPaymentStatus(sent.operationId, sent.approvalId);
        if (stopped) return;
        if (r.status === 'approved') return setResult('approved');
        if (r.status === 'refused') return setResult(r.fraudDeclared ? 'fraud' : 'refused');
        if (r.status === 'expired' || r.status === 'failed') return setResult('expired');
      } catch (e) {
        if (!stopped) setError(e);
        return;
      }
      timer = window.setTimeout(() => void tick(), 1500);
    };
    timer = window.setTimeout(() => void tick(), 1500);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [sent, result]);

  if (!available) return null;
  const simulate = async () => {
    setError(null);
    setResult(null);
    setSent(null);
    try {
      setSent(await appApi.simulateCardPayment());
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card card-demo" data-testid="card-demo">
      <h2>{a.cardTitle}</h2>
      <p className="muted">{a.cardText}</p>
      <button
        type="button"
        className="btn btn-secondary"
        onClick={() => void simulate()}
        disabled={!!sent && !result}
        data-testid="card-simulate"
      >
        {a.cardButton}
      </button>
      {sent && !result && (
        <p className="alert alert-info" role="status" data-testid="card-waiting">
          {a.cardWaiting(money(sent.amount.value, sent.amount.currency), sent.payee.name)}
        </p>
      )}
      {result && (
        <p
          className={`alert ${result === 'approved' ? 'alert-success' : 'alert-error'}`}
          role="status"
          data-testid="card-result"
          data-result={result}
        >
          {result === 'approved' ? a.cardApproved : result === 'fraud' ? a.cardFraud : result === 'refused' ? a.cardRefused : a.expired}
        </p>
      )}
      <ProblemAlert error={error} testId="card-error" />
    </section>
  );
}
