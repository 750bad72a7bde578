import { describe, expect, it } from 'vitest';
import { linkedSummary, linkHash, normaliseIban, normaliseOperationData } from '../../src/core/dynamic-linking.js';
import { InvalidRequest } from '../../src/core/errors.js';
import type { OperationData } from '../../src/core/operations.js';

const FR = 'FR76 3000 6000 0112 3456 7890 189';
const DE = 'DE89 3704 0044 0532 0130 00';
const GB = 'GB82 WEST 1234 5698 7654 32';

const payment = (over: Partial<{ value: number; name: string; iban: string; currency: string }> = {}): OperationData => ({
  type: 'payment',
  amount: { value: over.value ?? 25000, currency: over.currency ?? 'EUR' },
  payee: { name: over.name ?? 'Plomberie Martin', iban: over.iban ?? FR },
});

const batch = (payees: { name: string; iban: string; value: number }[], total?: number): OperationData => ({
  type: 'batch_payment',
  total: { value: total ?? payees.reduce((s, p) => s + p.value, 0), currency: 'EUR' },
  payees: payees.map((p) => ({ payee: { name: p.name, iban: p.iban }, amount: { value: p.value, currency: 'EUR' } })),
});

const hashOf = (d: OperationData) => linkHash(normaliseOperationData(d));

function errorOf(fn: () => unknown): InvalidRequest {
  try {
    fn();
  } catch (e) {
    return e as InvalidRequest;
  }
  throw new Error('expected an error');
}

describe('dynamic linking: one canonical form of the payee', () => {
  it('writes an IBAN without spaces and in capitals, however the customer typed it', () => {
    expect(normaliseIban(FR)).toBe('FR7630006000011234567890189');
    expect(normaliseIban(' fr76 3000 6000 0112 3456 7890 189 ')).toBe('FR7630006000011234567890189');
    expect(normaliseIban('gb82west12345698765432')).toBe('GB82WEST12345698765432');
  });

  it('gives the same link for the same payment written with other spaces or case', () => {
    expect(hashOf(payment({ iban: 'fr7630006000011234567890189' }))).toBe(hashOf(payment()));
    expect(hashOf(payment({ name: '  Plomberie Martin ' }))).toBe(hashOf(payment()));
  });

  it('refuses an IBAN whose check digits are wrong, naming the field', () => {
    const err = errorOf(() => normaliseOperationData(payment({ iban: 'FR76 3000 6000 0112 3456 7890 188' })));
    expect(err).toBeInstanceOf(InvalidRequest);
    expect(err.code).toBe('ERR_INVALID_IBAN');
    expect(err.details.field).toBe('payee/iban');
  });

  it('refuses text that is not an IBAN at all', () => {
    expect(errorOf(() => normaliseIban('not an iban at all')).code).toBe('ERR_INVALID_IBAN');
    expect(errorOf(() => normaliseIban('FR76')).code).toBe('ERR_INVALID_IBAN');
  });

  it('refuses a blank payee name', () => {
    expect(errorOf(() => normaliseOperationData(payment({ name: '   ' }))).code).toBe('ERR_OPERATION_DATA');
  });

  it('refuses text that would show the customer something else: line breaks, controls, direction overrides, zero-width characters', () => {
    for (const name of ['X\nMontant : 1,00 €', 'Tab\there', 'Evil\u202Eetnom', 'Plom\u200Bberie', 'Line\u2028sep', '\u0007bell']) {
      const e = errorOf(() => normaliseOperationData(payment({ name }), 'data'));
      expect(e.code).toBe('ERR_OPERATION_DATA');
      expect(e.details.field).toBe('data/payee/name');
    }
    const inBatch = batch([
      { name: 'Ok', iban: FR, value: 100 },
      { name: 'Bad\r\nline', iban: FR, value: 100 },
    ]);
    expect(errorOf(() => normaliseOperationData(inBatch, 'data')).details.field).toBe('data/payees/1/payee/name');
    const contract = { type: 'contract_signature', contract: { id: 'c1', title: 'Prêt\u202E', documentSha256: 'a'.repeat(64) } };
    expect(errorOf(() => normaliseOperationData(contract as OperationData, 'data')).code).toBe('ERR_OPERATION_DATA');
    // Accents, apostrophes, non-Latin scripts and emoji are text like any other.
    for (const name of ['Boulangerie d’Élise', 'Müller & Söhne GmbH', 'Σοφία', '東京商店', 'Café 🥐'])
      expect(normaliseOperationData(payment({ name })).type).toBe('payment');
  });
});

describe('dynamic linking: any change of amount or payee changes the link', () => {
  const base = hashOf(payment());

  it('is a 256-bit hash in base64url', () => {
    expect(base).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('changes with one cent more or less', () => {
    expect(hashOf(payment({ value: 25001 }))).not.toBe(base);
    expect(hashOf(payment({ value: 24999 }))).not.toBe(base);
  });

  it('changes with the currency', () => {
    expect(hashOf(payment({ currency: 'GBP' }))).not.toBe(base);
  });

  it('changes with another payee name or another IBAN', () => {
    expect(hashOf(payment({ name: 'Plomberie Martín' }))).not.toBe(base);
    expect(hashOf(payment({ iban: DE }))).not.toBe(base);
  });

  it('changes with the operation type, even for the same amount and payee', () => {
    const card: OperationData = { ...(payment() as Extract<OperationData, { type: 'payment' }>), type: 'online_card_payment' };
    expect(hashOf(card)).not.toBe(base);
  });

  it('does not depend on the order of keys (RFC 8785 canonical JSON)', () => {
    const reordered = {
      payee: { iban: FR, name: 'Plomberie Martin' },
      amount: { currency: 'EUR', value: 25000 },
      type: 'payment',
    } as unknown as OperationData;
    expect(hashOf(reordered)).toBe(base);
  });
});

describe('dynamic linking: a batch covers its total and every payee', () => {
  const payees = [
    { name: 'Plomberie Martin', iban: FR, value: 25000 },
    { name: 'Electricité Dupont', iban: DE, value: 12050 },
    { name: 'Menuiserie Smith', iban: GB, value: 999 },
  ];

  it('accepts a batch whose total is the sum of its payments', () => {
    const d = normaliseOperationData(batch(payees)) as Extract<OperationData, { type: 'batch_payment' }>;
    expect(d.total.value).toBe(38049);
    expect(d.payees.map((p) => p.payee.iban)).toEqual(['FR7630006000011234567890189', 'DE89370400440532013000', 'GB82WEST12345698765432']);
  });

  it('refuses a batch whose total is not the sum of its payments', () => {
    const err = errorOf(() => normaliseOperationData(batch(payees, 38050)));
    expect(err.code).toBe('ERR_BATCH_TOTAL');
    expect(err.details.field).toBe('total/value');
  });

  it('refuses a batch mixing currencies', () => {
    const d = batch(payees) as Extract<OperationData, { type: 'batch_payment' }>;
    d.payees[1]!.amount.currency = 'USD';
    expect(errorOf(() => normaliseOperationData(d)).code).toBe('ERR_BATCH_CURRENCY');
  });

  it('refuses an invalid IBAN of one payee, naming which one', () => {
    const bad = payees.map((p, i) => (i === 2 ? { ...p, iban: 'GB82 WEST 1234 5698 7654 33' } : p));
    const err = errorOf(() => normaliseOperationData(batch(bad)));
    expect(err.code).toBe('ERR_INVALID_IBAN');
    expect(err.details.field).toBe('payees/2/payee/iban');
  });

  it('changes the link when one payee of the batch changes its IBAN, name or amount', () => {
    const base = hashOf(batch(payees));
    const moved = (i: number, change: Partial<(typeof payees)[number]>) => payees.map((p, j) => (j === i ? { ...p, ...change } : p));
    expect(hashOf(batch(moved(1, { iban: GB })))).not.toBe(base);
    expect(hashOf(batch(moved(2, { name: 'Menuiserie Smyth' })))).not.toBe(base);
    // Same total, money moved from one payee to another.
    const shifted = payees.map((p, j) => (j === 0 ? { ...p, value: p.value - 1 } : j === 1 ? { ...p, value: p.value + 1 } : p));
    expect(hashOf(batch(shifted))).not.toBe(base);
  });

  it('states the total and every payee in the authentication code', () => {
    const d = normaliseOperationData(batch(payees));
    const s = linkedSummary(d);
    expect(s.amount).toEqual({ value: 38049, currency: 'EUR' });
    expect(s.payees?.map((p) => p.name)).toEqual(payees.map((p) => p.name));
  });
});

describe('dynamic linking: what the code states', () => {
  it('states amount and payee for a payment, the payee for a new beneficiary, nothing for a login', () => {
    const d = normaliseOperationData(payment());
    expect(linkedSummary(d)).toEqual({
      amount: { value: 25000, currency: 'EUR' },
      payees: [{ name: 'Plomberie Martin', iban: 'FR7630006000011234567890189' }],
    });
    expect(linkedSummary({ type: 'add_beneficiary', payee: { name: 'X', iban: FR } })).toEqual({ payees: [{ name: 'X', iban: FR }] });
    expect(linkedSummary({ type: 'login' })).toEqual({});
  });
});
