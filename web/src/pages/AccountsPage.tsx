import { useEffect, useState } from 'react';
import { api, type Account, type Me, type Transaction } from '../api.js';
import { CardPaymentDemo } from '../components/CardPaymentDemo.js';
import { ProblemAlert } from '../components/ProblemAlert.js';
import { useI18n } from '../i18n.js';
import { formatIban } from '../format.js';
import { Link } from '../router.js';

export function AccountsPage({ me }: { me: Me }) {
  const { m, money, date } = useI18n();
  const [data, setData] = useState<{ accounts: Account[]; transactions: Transaction[] } | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api.accounts().then(setData, setError);
  }, []);

  return (
    <section aria-labelledby="accounts-title" data-testid="accounts-page">
      <p className="greeting">{m.accounts.hello(me.customer.displayName)}</p>
      <div className="page-head">
        <h1 id="accounts-title">{m.accounts.title}</h1>
        <Link to="/transfer" className="btn btn-primary" data-testid="new-transfer">
          {m.accounts.newTransfer}
        </Link>
      </div>
      <ProblemAlert error={error} testId="accounts-error" />
      {!data && !error && <p className="loading">{m.loading}</p>}
      {data && (
        <>
          <ul className="accounts">
            {data.accounts.map((a) => (
              <li key={a.id} className="card account" data-testid={`account-${a.id}`}>
                <div>
                  <h2>{m.accounts[a.kind]}</h2>
                  <p className="mono muted">{formatIban(a.iban)}</p>
                </div>
                <div className="balance">
                  <span className="muted">{m.accounts.balance}</span>
                  <strong data-testid={`balance-${a.id}`}>{money(a.balanceCents, a.currency)}</strong>
                </div>
              </li>
            ))}
          </ul>

          <h2>{m.accounts.recent}</h2>
          {data.transactions.length === 0 ? (
            <p className="muted">{m.accounts.none}</p>
          ) : (
            <div className="card table-card">
              <table className="transactions" data-testid="transactions">
                <thead>
                  <tr>
                    <th scope="col">{m.accounts.date}</th>
                    <th scope="col">{m.accounts.label}</th>
                    <th scope="col" className="num">
                      {m.accounts.amount}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.transactions.map((t) => (
                    <tr key={t.id}>
                      <td>{date(t.at)}</td>
                      <td>
                        <span className="muted">{m.accounts.kinds[t.kind]}</span> · {t.counterparty}
                      </td>
                      <td className={`num ${t.amountCents < 0 ? 'debit' : 'credit'}`}>
                        {t.amountCents > 0 ? '+' : ''}
                        {money(t.amountCents, t.currency)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      <CardPaymentDemo />
    </section>
  );
}
