/**
 * @sesame/device-sdk — the device side of Sésame's app authenticator, in the browser and in Node ≥ 20.
 * See README.md for the protocol and examples.
 */
export * from './device.js';
export * from './store.js';
export { approvalPayload, linkHashOf, offlinePayload, requestSigningInput, truncateToDigits, type OperationData } from './payload.js';
export { DEFAULT_PIN_ITERATIONS, PIN_PATTERN, unlockKnowledgeKey, type WrappedKnowledgeKey } from './pin-vault.js';
export { fromBase64Url, toBase64Url } from './encoding.js';
export { verifyPossession } from './keys.js';
