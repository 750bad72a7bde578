import type { OperationData } from '../../../../sdk/device/src/index.js';
import { useI18n } from '../i18n.js';

type Money = { value: number; currency: string };
type Payee = { name: string; iban?: string; merchantId?: string };

const isMoney = (v: unknown): v is Money =>
  typeof v === 'object' && v !== null && typeof (v as Money).value === 'number' && typeof (v as Money).currency === 'string';
const isPayee = (v: unknown): v is Payee => typeof v === 'object' && v !== null && typeof (v as Payee).name === 'string';

/** `FR7630006000011234567890189` → `FR76 3000 6000 0112 3456 7890 189`. */
export function formatIban(iban: string): string {
  return iban.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}

/**
 * The operation as the server sent it, shown field by field: what is shown is what the SDK signs (the
 * approval covers the link hash of exactly this data), so nothing is summarised away.
 */
export function OperationDetails({ data, testId }: { data: OperationData; testId: string }) {
  const { m, money } = useI18n();
  const amount = isMoney(data.amount) ? data.amount : isMoney(data.total) ? data.total : isMoney(data.limit) ? data.limit : null;
  const payee = isPayee(data.payee) ? data.payee : null;
  const payees = Array.isArray(data.payees) ? (data.payees as { payee: Payee; amount: Money }[]) : [];
  const card = data.type === 'online_card_payment';
  return (
    <div className="op" data-testid={testId} data-type={data.type}>
      <p className="op-type" data-testid={`${testId}-type`}>
        {m.types[data.type] ?? data.type}
      </p>
      {amount && (
        <p className="op-amount" data-testid={`${testId}-amount`}>
          {money(amount.value, amount.currency)}
        </p>
      )}
      {payee && (
        <dl className="op-fields">
          <div>
            <dt>{card ? m.approval.merchant : m.approval.payee}</dt>
            <dd data-testid={`${testId}-payee`}>{payee.name}</dd>
          </div>
          {payee.iban && (
            <div>
              <dt>{m.approval.iban}</dt>
              <dd className="mono" data-testid={`${testId}-iban`}>
                {formatIban(payee.iban)}
              </dd>
            </div>
          )}
        </dl>
      )}
      {payees.length > 0 && (
        <ul className="op-payees">
          {payees.map((p, i) => (
            <li key={i}>
              {p.payee.name}
              {p.payee.iban && <span className="mono"> · {formatIban(p.payee.iban)}</span>} — {money(p.amount.value, p.amount.currency)}
            </li>
          ))}
        </ul>
      )}
      {typeof data.phone === 'string' && (
        <p>
          {m.approval.phone} : <strong>{data.phone}</strong>
        </p>
      )}
      {typeof data.email === 'string' && (
        <p>
          {m.approval.email} : <strong>{data.email}</strong>
        </p>
      )}
    </div>
  );
}
