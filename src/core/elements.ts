/** The three element categories of PSD2 SCA (RTS art. 4; French order of 22 January 2019). */
export const ELEMENT_CATEGORIES = ['knowledge', 'possession', 'inherence'] as const;
export type ElementCategory = (typeof ELEMENT_CATEGORIES)[number];

/** Lifecycle of an enrolled authenticator. Only `active` ones can prove an element. */
export const AUTHENTICATOR_STATUSES = ['pending', 'active', 'suspended', 'revoked'] as const;
export type AuthenticatorStatus = (typeof AUTHENTICATOR_STATUSES)[number];

/** Distinct categories among proofs: two proofs of the same category count once. */
export function distinctCategories(categories: Iterable<ElementCategory>): ElementCategory[] {
  return ELEMENT_CATEGORIES.filter((c) => new Set(categories).has(c));
}
