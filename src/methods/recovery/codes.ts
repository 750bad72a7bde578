import { randomInt } from 'node:crypto';
import { keyedHash } from '../../crypto/tokens.js';

/**
 * Recovery codes: printed once, stored only as keyed hashes, each usable once.
 * Crockford's base32 alphabet has no I, L, O or U, so a code read aloud or copied by hand survives
 * the usual confusions; 10 characters carry 50 random bits.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 10;

/**
 * `count` fresh codes, formatted `XXXXX-XXXXX`, drawn from the CSPRNG without modulo bias.
 *
 * @example
 * generateRecoveryCodes(); // ['7KQ2M-0XH9T', …] (10 codes)
 */
export function generateRecoveryCodes(count = 10): string[] {
  const codes = new Set<string>();
  // A Set so that the (2^-50-unlikely) duplicate never produces two rows for one code.
  while (codes.size < count) {
    let raw = '';
    for (let i = 0; i < LENGTH; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
    codes.add(`${raw.slice(0, 5)}-${raw.slice(5)}`);
  }
  return [...codes];
}

/**
 * The canonical form of a typed code: upper case, without spaces or dashes, O read as 0 and I/L as 1
 * (Crockford's decoding rules).
 *
 * @example
 * normaliseRecoveryCode(' 7kq2m - oxh9t '); // '7KQ2M0XH9T'
 */
export function normaliseRecoveryCode(input: string): string {
  return input
    .toUpperCase()
    .replace(/[\s\-‐‑‒–—]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

/**
 * The stored form of a code: a keyed hash bound to its authenticator, so a leaked table is useless
 * without the key and a hash cannot be moved to another customer's set. The code is normalised first.
 *
 * @example
 * const codeHash = hashRecoveryCode(deps.hashKey, authenticator.id, proof.code);
 */
export function hashRecoveryCode(hashKey: Buffer, authenticatorId: string, code: string): string {
  return keyedHash(hashKey, 'recovery-code', authenticatorId, normaliseRecoveryCode(code));
}
