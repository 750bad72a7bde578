import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { InvalidRequest } from './errors.js';
import type { Amount, OperationData, Payee } from './operations.js';

/**
 * Dynamic linking (RTS art. 5): every proof and the authentication code are bound to the operation's
 * canonical data. The link hash is SHA-256 over the RFC 8785 canonical JSON of the normalised data, so
 * one cent more, another payee or one changed payee of a batch gives another hash.
 *
 * @example
 * const data = normaliseOperationData({ type: 'payment', amount: { value: 25000, currency: 'EUR' },
 *   payee: { name: 'Plombier Martin', iban: 'FR76 3000 6000 0112 3456 7890 189' } });
 * linkHash(data); // 'q0n…' (base64url, 43 chars)
 */
export function linkHash(data: OperationData): string {
  const json = canonicalize(data);
  if (json === undefined) throw new InvalidRequest('ERR_OPERATION_DATA', 'Operation data cannot be canonicalised.');
  return createHash('sha256').update(json, 'utf8').digest('base64url');
}

/**
 * Brings operation data to its one canonical form (IBANs without spaces, upper case, checked) and
 * enforces the cross-field rules a schema cannot express (a batch's total is the sum of its payees).
 * Errors name the field under `at`, the data's place in the request (e.g. `data`).
 */
export function normaliseOperationData(data: OperationData, at = ''): OperationData {
  refuseHiddenText(data, at);
  const under = (path: string) => (at ? `${at}/${path}` : path);
  switch (data.type) {
    case 'payment':
    case 'online_card_payment':
    case 'add_beneficiary':
      return { ...data, payee: normalisePayee(data.payee, under('payee')) };
    case 'batch_payment': {
      const payees = data.payees.map((p, i) => ({
        payee: normalisePayee(p.payee, under(`payees/${i}/payee`)),
        amount: p.amount,
      }));
      checkBatchTotal(
        data.total,
        payees.map((p) => p.amount),
        under('total'),
      );
      return { ...data, payees };
    }
    default:
      return data;
  }
}

/**
 * Controls (line breaks, tabs), invisible formatting (direction overrides, zero-width characters) and line
 * separators: in a payee's name they could make an SMS, a call or the app show the customer something else
 * than the operation says ("X\nMontant : 1,00 €", a name written backwards). The customer must see what
 * the code binds (RTS art. 5), so no text of an operation may hold them.
 */
const HIDDEN_TEXT = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

function refuseHiddenText(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (HIDDEN_TEXT.test(value)) {
      throw new InvalidRequest(
        'ERR_OPERATION_DATA',
        `${path} must not contain line breaks, control or invisible formatting characters: the customer must see exactly what is authorised.`,
        { field: path },
      );
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => refuseHiddenText(v, path ? `${path}/${i}` : String(i)));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) refuseHiddenText(v, path ? `${path}/${k}` : k);
  }
}

function normalisePayee(payee: Payee, path: string): Payee {
  const out: Payee = { name: payee.name.trim() };
  if (!out.name) throw new InvalidRequest('ERR_OPERATION_DATA', `${path}/name must not be blank.`, { field: `${path}/name` });
  if (payee.iban !== undefined) out.iban = normaliseIban(payee.iban, `${path}/iban`);
  if (payee.merchantId !== undefined) out.merchantId = payee.merchantId;
  // A name alone binds nothing: "EDF" with another IBAN would still match. The code binds the account
  // or the merchant paid.
  if (out.iban === undefined && out.merchantId === undefined) {
    throw new InvalidRequest('ERR_OPERATION_DATA', `${path} needs its iban or its merchantId: the code binds who is paid, not a name.`, {
      field: path,
    });
  }
  return out;
}

/** Upper-cases, strips spaces and checks the ISO 13616 mod-97 checksum. */
export function normaliseIban(raw: string, field = 'iban'): string {
  const iban = raw.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban) || ibanMod97(iban) !== 1) {
    throw new InvalidRequest('ERR_INVALID_IBAN', `${field} is not a valid IBAN.`, { field });
  }
  return iban;
}

function ibanMod97(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const digits = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return remainder;
}

function checkBatchTotal(total: Amount, amounts: Amount[], at: string): void {
  if (amounts.some((a) => a.currency !== total.currency)) {
    throw new InvalidRequest('ERR_BATCH_CURRENCY', 'Every payment of a batch must be in the currency of its total.', {
      field: `${at}/currency`,
    });
  }
  const sum = amounts.reduce((s, a) => s + a.value, 0);
  if (sum !== total.value) {
    throw new InvalidRequest('ERR_BATCH_TOTAL', `The batch total (${total.value}) is not the sum of its payments (${sum}).`, {
      field: `${at}/value`,
    });
  }
}

/** What the authentication code states about the money moved, if any. */
export function linkedSummary(data: OperationData): { amount?: Amount; payees?: Payee[] } {
  switch (data.type) {
    case 'payment':
    case 'online_card_payment':
      return { amount: data.amount, payees: [data.payee] };
    case 'batch_payment':
      return { amount: data.total, payees: data.payees.map((p) => p.payee) };
    case 'add_beneficiary':
      return { payees: [data.payee] };
    default:
      return {};
  }
}
