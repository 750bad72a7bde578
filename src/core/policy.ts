import { distinctCategories, type ElementCategory } from './elements.js';
import type { OperationType } from './operations.js';

/**
 * Which proofs authorise an operation. Every operation type handled here is regulated, so the floor is
 * two elements of two different categories (RTS art. 4); a bank may require more, never fewer.
 */
export interface ScaPolicy {
  /** Minimum number of distinct element categories per operation type (≥ 2). */
  minCategories: Record<OperationType, number>;
  /** Method kinds that may never be used for an operation type (e.g. recovery codes for a payment). */
  forbiddenMethods: Partial<Record<OperationType, readonly string[]>>;
  /**
   * Operation types that, started inside a login session, may reuse the knowledge element proven at
   * that login, the other element being applied at the time of the operation with dynamic linking
   * (EBA Q&A 2018_4141). Empty to always require every element afresh.
   */
  sessionReuse: ReadonlySet<OperationType>;
}

/** The one element a session may lend to an operation started in it. */
export const REUSABLE_CATEGORY: ElementCategory = 'knowledge';

export const defaultScaPolicy = (overrides: Partial<Record<OperationType, number>> = {}, allowSessionReuse = true): ScaPolicy => ({
  // Never for a login (it creates the session), for binding new authenticators, or for changing the
  // contact data that codes are sent to: those always need every element afresh.
  sessionReuse: new Set<OperationType>(
    allowSessionReuse
      ? [
          'payment',
          'batch_payment',
          'add_beneficiary',
          'change_address',
          'view_card_pin',
          'card_limit_increase',
          'contract_signature',
          'card_wallet_enrolment',
        ]
      : [],
  ),
  minCategories: {
    login: 2,
    payment: 2,
    batch_payment: 2,
    add_beneficiary: 2,
    change_phone: 2,
    change_email: 2,
    change_address: 2,
    view_card_pin: 2,
    card_limit_increase: 2,
    contract_signature: 2,
    card_wallet_enrolment: 2,
    online_card_payment: 2,
    manage_authenticators: 2,
    ...overrides,
  },
  // Recovery codes replace a lost device to get back in and re-enrol, nothing more: not to pay, nor to
  // change where the bank reaches the customer (whoever stole the codes and the password would take the
  // account over). An SMS to the secure number cannot authorise replacing that number (seed 001).
  forbiddenMethods: Object.fromEntries(
    (
      [
        'payment',
        'batch_payment',
        'add_beneficiary',
        'view_card_pin',
        'card_limit_increase',
        'contract_signature',
        'card_wallet_enrolment',
        'online_card_payment',
        'change_email',
        'change_address',
      ] as const
    )
      .map((t): [OperationType, string[]] => [t, ['recovery']])
      .concat([['change_phone', ['sms', 'recovery']]]),
  ),
});

export interface PolicyDecision {
  satisfied: boolean;
  categories: ElementCategory[];
  required: number;
}

/** Whether the verified proofs of one attempt satisfy the policy for the operation type. */
export function decide(policy: ScaPolicy, type: OperationType, provenCategories: Iterable<ElementCategory>): PolicyDecision {
  const categories = distinctCategories(provenCategories);
  const required = Math.max(2, policy.minCategories[type]);
  return { satisfied: categories.length >= required, categories, required };
}

export function methodAllowed(policy: ScaPolicy, type: OperationType, methodKind: string): boolean {
  return !(policy.forbiddenMethods[type] ?? []).includes(methodKind);
}
