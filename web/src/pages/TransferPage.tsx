import { useEffect, useState, type FormEvent } from 'react';
import { api, type Account, type PendingTransfer, type TransferDone } from '../api.js';
import { AppTransferOption } from '../components/AppApproval.js';
import { Field } from '../components/Field.js';
import { ProblemAlert } from '../components/ProblemAlert.js';
import { initialSca, isKeypad, possessionOf, ScaMethods, type ScaState } from '../components/ScaMethods.js';
import { formatIban, parseAmountToCents } from '../format.js';
import { useI18n } from '../i18n.js';
import { Link } from '../router.js';

type Step = { name: 'form' } | { name: 'confirm'; pending: PendingTransfer } | { name: 'done'; done: TransferDone };

/**
 * Dynamic linking seen from the customer's side: the confirmation screen states the amount and payee
 * exactly as the authentication service recorded them, and the code typed there is valid for them only.
 */
export function TransferPage() {
  const [step, setStep] = useState<Step>({ name: 'form' });
  if (step.name === 'confirm') {
    return (
      <ConfirmStep pending={step.pending} onDone={(done) => setStep({ name: 'done', done })} onCancel={() => setStep({ name: 'form' })} />
    );
  }
  if (step.name === 'done') return <DoneStep done={step.done} onAnother={() => setStep({ name: 'form' })} />;
  return <FormStep onCreated={(pending) => setStep({ name: 'confirm', pending })} />;
}

function FormStep({ onCreated }: { onCreated(p: PendingTransfer): void }) {
  const { m, money } = useI18n();
  const [accounts, setAccounts] = useState<Account[] | null>(null);
  const [from, setFrom] = useState('current');
  const [payeeName, setPayeeName] = useState('');
  const [iban, setIban] = useState('');
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [amountInvalid, setAmountInvalid] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.accounts().then((d) => setAccounts(d.accounts), setError);
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const amountCents = parseAmountToCents(amount);
    setAmountInvalid(amountCents === null);
    if (amountCents === null) return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await api.createTransfer({ fromAccount: from, payeeName: payeeName.trim(), iban, amountCents, currency: 'EUR' }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="transfer-title" data-testid="transfer-form">
      <h1 id="transfer-title">{m.transfer.title}</h1>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="transfer-from">{m.transfer.from}</label>
          <select id="transfer-from" data-testid="transfer-from" value={from} onChange={(e) => setFrom(e.target.value)}>
            {(accounts ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {m.accounts[a.kind]} — {money(a.balanceCents, a.currency)}
              </option>
            ))}
          </select>
        </div>
        <Field
          label={m.transfer.payeeName}
          testId="transfer-payee"
          value={payeeName}
          onChange={(e) => setPayeeName(e.target.value)}
          maxLength={70}
          autoComplete="off"
          required
        />
        <Field
          label={m.transfer.iban}
          hint={m.transfer.ibanHint}
          testId="transfer-iban"
          className="mono-input"
          value={iban}
          onChange={(e) => setIban(e.target.value.toUpperCase())}
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          required
        />
        <Field
          label={m.transfer.amount}
          hint={amountInvalid ? m.transfer.invalidAmount : m.transfer.amountHint}
          testId="transfer-amount"
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          inputMode="decimal"
          autoComplete="off"
          aria-invalid={amountInvalid || undefined}
          required
        />
        <ProblemAlert error={error} testId="transfer-error" />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy || !accounts} data-testid="transfer-continue">
          {m.transfer.continue}
        </button>
      </form>
    </section>
  );
}

function ConfirmStep({ pending, onDone, onCancel }: { pending: PendingTransfer; onDone(d: TransferDone): void; onCancel(): void }) {
  const { m, money, lang } = useI18n();
  const [password, setPassword] = useState('');
  const [sca, setSca] = useState<ScaState>(() => initialSca(pending.methods));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // While the app is asked, the other ways stay out of sight ("use another method" brings them back).
  const [appWaiting, setAppWaiting] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const possession = possessionOf(sca);
    if (!possession) return;
    setBusy(true);
    setError(null);
    try {
      onDone(await api.confirmTransfer(pending.operationId, password, possession));
    } catch (err) {
      setError(err);
      // A code by SMS or call is used up by a failed attempt: the customer asks for a new one. A reader's
      // challenge stays: it is the operation's own.
      setSca((prev) =>
        prev.method === 'totp' || prev.method === 'hotp' || prev.method === 'ocra'
          ? { ...prev, code: '' }
          : { method: null, code: '', challenge: null },
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card narrow" aria-labelledby="confirm-title" data-testid="transfer-confirm">
      <h1 id="confirm-title">{m.transfer.confirmTitle}</h1>
      <div className="recap" aria-live="polite">
        <p className="muted">{m.transfer.youSend}</p>
        <p className="big-amount" data-testid="confirm-amount">
          {money(pending.amount.value, pending.amount.currency)}
        </p>
        <p className="muted">{m.transfer.to}</p>
        <p className="big-payee" data-testid="confirm-payee">
          {pending.payee.name}
        </p>
        {pending.payee.iban && (
          <p className="mono" data-testid="confirm-iban">
            {formatIban(pending.payee.iban)}
          </p>
        )}
        <p className="muted small">
          {m.transfer.fromAccount} {m.accounts[pending.fromAccount.kind]} ·{' '}
          <span className="mono">{formatIban(pending.fromAccount.iban)}</span>
        </p>
      </div>
      <AppTransferOption operationId={pending.operationId} onDone={onDone} onWaiting={setAppWaiting} />
      {!appWaiting && (
        <>
          <p>{m.transfer.confirmIntro}</p>
          <form onSubmit={submit}>
            <Field
              label={m.transfer.password}
              testId="confirm-password"
              type="password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="current-password"
              required
              autoFocus
            />
            <ScaMethods
              prefix="confirm"
              methods={pending.methods}
              value={sca}
              onChange={setSca}
              busy={busy}
              requestCode={(method) => api.transferChallenge(pending.operationId, method, lang)}
              requestOcra={(authenticatorId) => api.transferOcraChallenge(pending.operationId, authenticatorId)}
              requestPasskey={() => api.transferPasskeyOptions(pending.operationId)}
            />
            <ProblemAlert error={error} testId="confirm-error" />
            <div className="actions">
              <button type="button" className="btn btn-secondary" onClick={onCancel} data-testid="confirm-cancel">
                {m.cancel}
              </button>
              {!isKeypad(sca) && (
                <button type="submit" className="btn btn-primary" disabled={busy || !possessionOf(sca)} data-testid="confirm-submit">
                  {m.transfer.confirm}
                </button>
              )}
            </div>
          </form>
        </>
      )}
    </section>
  );
}

function DoneStep({ done, onAnother }: { done: TransferDone; onAnother(): void }) {
  const { m, money } = useI18n();
  return (
    <section className="card narrow success" aria-labelledby="done-title" data-testid="transfer-success" role="status">
      <div className="success-mark" aria-hidden="true">
        ✓
      </div>
      <h1 id="done-title">{m.transfer.successTitle}</h1>
      <p className="lead" data-testid="success-text">
        {m.transfer.successText(money(done.amount.value, done.amount.currency), done.payee.name)}
      </p>
      <p>
        {m.transfer.newBalance} <strong data-testid="new-balance">{money(done.balanceCents, done.amount.currency)}</strong>
      </p>
      <div className="actions">
        <button type="button" className="btn btn-secondary" onClick={onAnother} data-testid="transfer-another">
          {m.transfer.another}
        </button>
        <Link to="/accounts" className="btn btn-primary" data-testid="back-to-accounts">
          {m.transfer.toAccounts}
        </Link>
      </div>
    </section>
  );
}
