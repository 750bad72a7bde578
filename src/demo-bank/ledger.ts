import { randomUUID, createHash } from 'node:crypto';
import { makeIban } from './iban.js';
import { BankError } from './errors.js';

/**
 * The demo bank's core banking, in memory: two accounts per customer (opened on first sight with a few
 * past transactions so the pages look alive) and the transfers executed after SCA. Nothing here talks
 * to Sésame: a bank's ledger is its own business.
 */

export type AccountKind = 'current' | 'savings';

export interface Account {
  id: string;
  kind: AccountKind;
  iban: string;
  balanceCents: number;
  currency: 'EUR';
}

/** Transaction kinds the page translates; `counterparty` is a name, shown as is. */
export type TransactionKind = 'salary' | 'rent' | 'card' | 'transfer_out';

export interface Transaction {
  id: string;
  accountId: string;
  at: string;
  kind: TransactionKind;
  counterparty: string;
  /** Signed: negative for money leaving the account. */
  amountCents: number;
  currency: 'EUR';
  /** Set for transfers: the Sésame operation that authorised it (the audit link between both systems). */
  operationId?: string;
}

interface Book {
  accounts: Account[];
  transactions: Transaction[];
}

export class Ledger {
  readonly #books = new Map<string, Book>();
  readonly #now: () => Date;

  constructor(now: () => Date) {
    this.#now = now;
  }

  accounts(customerRef: string): Account[] {
    return this.#book(customerRef).accounts.map((a) => ({ ...a }));
  }

  account(customerRef: string, accountId: string): Account | undefined {
    const a = this.#book(customerRef).accounts.find((x) => x.id === accountId);
    return a && { ...a };
  }

  /** Most recent first. */
  transactions(customerRef: string, limit = 20): Transaction[] {
    return this.#book(customerRef)
      .transactions.slice(-limit)
      .reverse()
      .map((t) => ({ ...t }));
  }

  /** Executes an outgoing transfer. Synchronous, so two confirmations cannot interleave. */
  transfer(
    customerRef: string,
    t: { fromAccountId: string; amountCents: number; payeeName: string; operationId: string },
  ): { transaction: Transaction; balanceCents: number } {
    const account = this.#book(customerRef).accounts.find((x) => x.id === t.fromAccountId);
    if (!account) throw new BankError(404, 'ERR_ACCOUNT_NOT_FOUND', 'Account not found.');
    if (account.balanceCents < t.amountCents) {
      throw new BankError(422, 'ERR_INSUFFICIENT_FUNDS', 'The balance is too low for this transfer.');
    }
    account.balanceCents -= t.amountCents;
    const transaction: Transaction = {
      id: randomUUID(),
      accountId: account.id,
      at: this.#now().toISOString(),
      kind: 'transfer_out',
      counterparty: t.payeeName,
      amountCents: -t.amountCents,
      currency: 'EUR',
      operationId: t.operationId,
    };
    this.#book(customerRef).transactions.push(transaction);
    return { transaction: { ...transaction }, balanceCents: account.balanceCents };
  }

  #book(customerRef: string): Book {
    let book = this.#books.get(customerRef);
    if (!book) {
      book = openDemoBook(customerRef, this.#now());
      this.#books.set(customerRef, book);
    }
    return book;
  }
}

/** Deterministic per customer, so that screenshots and tests see the same figures. */
function openDemoBook(customerRef: string, now: Date): Book {
  const digits = BigInt('0x' + createHash('sha256').update(customerRef).digest('hex').slice(0, 16))
    .toString()
    .padStart(22, '0');
  const current: Account = {
    id: 'current',
    kind: 'current',
    // Bank 30004, branch 00001, an 11-digit account number and a 2-digit key: a well-formed French BBAN.
    iban: makeIban('FR', `3000400001${digits.slice(0, 11)}${digits.slice(11, 13)}`),
    balanceCents: 2_450_75,
    currency: 'EUR',
  };
  const savings: Account = {
    id: 'savings',
    kind: 'savings',
    iban: makeIban('FR', `3000400001${digits.slice(13, 22)}00${digits.slice(0, 2)}`),
    balanceCents: 12_800_00,
    currency: 'EUR',
  };
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
  const past = (kind: TransactionKind, counterparty: string, amountCents: number, d: number): Transaction => ({
    id: randomUUID(),
    accountId: 'current',
    at: daysAgo(d),
    kind,
    counterparty,
    amountCents,
    currency: 'EUR',
  });
  return {
    accounts: [current, savings],
    transactions: [
      past('salary', 'Atelier Moreau SARL', 2_380_00, 12),
      past('rent', 'SCI Les Tilleuls', -850_00, 10),
      past('card', 'Boulangerie du Marché', -4_20, 3),
      past('card', 'Librairie Gallimard', -23_50, 1),
    ],
  };
}
