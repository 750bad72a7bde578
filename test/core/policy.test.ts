import { describe, expect, it } from 'vitest';
import { distinctCategories } from '../../src/core/elements.js';
import { OPERATION_TYPES } from '../../src/core/operations.js';
import { decide, defaultScaPolicy, methodAllowed } from '../../src/core/policy.js';

const policy = defaultScaPolicy();

describe('policy: two elements of two different categories', () => {
  it('is satisfied by a knowledge and a possession element, for every operation type', () => {
    for (const type of OPERATION_TYPES) {
      expect(decide(policy, type, ['knowledge', 'possession'])).toEqual({
        satisfied: true,
        categories: ['knowledge', 'possession'],
        required: 2,
      });
    }
  });

  it('is satisfied by possession and inherence, or knowledge and inherence', () => {
    expect(decide(policy, 'payment', ['possession', 'inherence']).satisfied).toBe(true);
    expect(decide(policy, 'payment', ['inherence', 'knowledge']).satisfied).toBe(true);
  });

  it('is not satisfied by two possession proofs (two devices are still one category)', () => {
    const d = decide(policy, 'login', ['possession', 'possession']);
    expect(d.satisfied).toBe(false);
    expect(d.categories).toEqual(['possession']);
  });

  it('is not satisfied by two knowledge proofs, nor by a single element', () => {
    expect(decide(policy, 'payment', ['knowledge', 'knowledge']).satisfied).toBe(false);
    expect(decide(policy, 'payment', ['knowledge']).satisfied).toBe(false);
    expect(decide(policy, 'payment', []).satisfied).toBe(false);
  });

  it('never requires fewer than two categories, even when configured lower', () => {
    const lax = defaultScaPolicy({ login: 1, payment: 0 });
    expect(decide(lax, 'login', ['possession']).satisfied).toBe(false);
    expect(decide(lax, 'login', ['possession']).required).toBe(2);
    expect(decide(lax, 'payment', ['knowledge']).satisfied).toBe(false);
  });

  it('may require three categories when the bank wants more', () => {
    const strict = defaultScaPolicy({ contract_signature: 3 });
    expect(decide(strict, 'contract_signature', ['knowledge', 'possession']).satisfied).toBe(false);
    expect(decide(strict, 'contract_signature', ['knowledge', 'possession', 'inherence']).satisfied).toBe(true);
  });

  it('counts distinct categories in a stable order', () => {
    expect(distinctCategories(['possession', 'knowledge', 'possession'])).toEqual(['knowledge', 'possession']);
  });
});

describe('policy: recovery codes get you back in, never pay', () => {
  it('forbids recovery codes for every operation that moves money, binds a card or beneficiary, or changes contact data', () => {
    for (const type of [
      'payment',
      'batch_payment',
      'online_card_payment',
      'add_beneficiary',
      'view_card_pin',
      'card_limit_increase',
      'contract_signature',
      'card_wallet_enrolment',
      'change_phone',
      'change_email',
      'change_address',
    ] as const) {
      expect(methodAllowed(policy, type, 'recovery')).toBe(false);
      expect(methodAllowed(policy, type, 'totp')).toBe(true);
    }
  });

  it('allows recovery codes for a login and for re-enrolling authenticators', () => {
    expect(methodAllowed(policy, 'login', 'recovery')).toBe(true);
    expect(methodAllowed(policy, 'manage_authenticators', 'recovery')).toBe(true);
  });
});

describe('policy: reuse of the login session’s element', () => {
  it('never lends the session to a login, a change of contact data or of authenticators', () => {
    for (const type of ['login', 'change_phone', 'change_email', 'manage_authenticators', 'online_card_payment'] as const) {
      expect(policy.sessionReuse.has(type)).toBe(false);
    }
    expect(policy.sessionReuse.has('payment')).toBe(true);
  });

  it('lends nothing when the bank turns reuse off', () => {
    expect(defaultScaPolicy({}, false).sessionReuse.size).toBe(0);
  });
});
