import { fromBase64Url, toBase64Url, utf8 } from './encoding.js';
import { hmacKey, randomKeyBytes } from './keys.js';

/**
 * The knowledge element. A random 32-byte key, shared with the server at activation, is stored on the
 * device encrypted under a key derived from the PIN (PBKDF2-SHA-256) with AES-CTR — deliberately
 * **without** an integrity check. Any PIN decrypts to *some* 32 bytes, so a wrong PIN yields a wrong key,
 * hence a wrong HMAC that only the server can tell apart and counts as a failed attempt (≤ 5 then blocked).
 * A stolen device cannot test PINs offline: nothing on it says which decryption is the right one. The PIN
 * itself never leaves the device.
 */
export interface WrappedKnowledgeKey {
  salt: string;
  counterBlock: string;
  ciphertext: string;
  iterations: number;
}

/** PBKDF2 iterations: OWASP 2023 figure for PBKDF2-HMAC-SHA-256. */
export const DEFAULT_PIN_ITERATIONS = 600_000;

/** PINs are 6 digits (the app's keypad); the server never sees them. */
export const PIN_PATTERN = /^\d{6}$/;

async function pinKey(pin: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', utf8(pin) as BufferSource, 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations },
    base,
    { name: 'AES-CTR', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** A new knowledge key: its raw bytes (sent once to the server) and its PIN-wrapped form (kept on the device). */
export async function newKnowledgeKey(
  pin: string,
  iterations = DEFAULT_PIN_ITERATIONS,
): Promise<{ raw: Uint8Array; wrapped: WrappedKnowledgeKey }> {
  const raw = randomKeyBytes();
  return { raw, wrapped: await wrapKnowledgeKey(raw, pin, iterations) };
}

export async function wrapKnowledgeKey(raw: Uint8Array, pin: string, iterations = DEFAULT_PIN_ITERATIONS): Promise<WrappedKnowledgeKey> {
  if (!PIN_PATTERN.test(pin)) throw new TypeError('The PIN is 6 digits.');
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const counterBlock = crypto.getRandomValues(new Uint8Array(16));
  const key = await pinKey(pin, salt, iterations);
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-CTR', counter: counterBlock as BufferSource, length: 64 },
    key,
    raw as BufferSource,
  );
  return { salt: toBase64Url(salt), counterBlock: toBase64Url(counterBlock), ciphertext: toBase64Url(ciphertext), iterations };
}

/** Decrypts with whatever PIN is given: never fails, never tells a wrong PIN (only the server can). */
export async function unlockKnowledgeKey(wrapped: WrappedKnowledgeKey, pin: string): Promise<CryptoKey> {
  const key = await pinKey(pin, fromBase64Url(wrapped.salt), wrapped.iterations);
  const raw = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: 'AES-CTR', counter: fromBase64Url(wrapped.counterBlock) as BufferSource, length: 64 },
      key,
      fromBase64Url(wrapped.ciphertext) as BufferSource,
    ),
  );
  return hmacKey(raw);
}
