import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Config } from '../../config.js';

/**
 * Password hashing with argon2id (@node-rs/argon2 runs on libuv's threadpool, off the event loop).
 * Passwords are NFKC-normalised before hashing (NIST SP 800-63B §5.1.1.2), so "é" typed as one code
 * point on a phone and as e + combining accent on a desktop is the same password.
 */

export type Argon2Params = Config['argon2'];

const MIN_LENGTH = 8;
const MAX_LENGTH = 128;

// @node-rs/argon2 defaults to argon2id v=19; its `Algorithm` is an ambient const enum, which
// `isolatedModules` cannot reference, so we rely on the default and `needsRehash` checks the prefix.
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/**
 * Hashes a password into a PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash`.
 *
 * @example
 * const stored = await hashPassword('correct horse battery', config.argon2);
 */
export function hashPassword(password: string, params: Argon2Params): Promise<string> {
  return hash(password.normalize('NFKC'), {
    memoryCost: params.memoryCost,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  });
}

/**
 * Checks a password against a stored hash. A malformed or foreign hash yields `false`, never an error.
 *
 * @example
 * if (await verifyPassword(row.secret_digest ?? (await dummyHash(config.argon2)), proof.password)) { … }
 */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFKC'));
  } catch {
    return false;
  }
}

/**
 * Whether a stored hash should be replaced on the next successful login: not argon2id v=19, or
 * made with other cost parameters than the configured ones.
 *
 * @example
 * if (ok && needsRehash(stored, config.argon2)) stored = await hashPassword(password, config.argon2);
 */
export function needsRehash(stored: string, params: Argon2Params): boolean {
  const m = PHC.exec(stored);
  if (!m) return true;
  return Number(m[1]) !== params.memoryCost || Number(m[2]) !== params.timeCost || Number(m[3]) !== params.parallelism;
}

const dummies = new Map<string, Promise<string>>();

/**
 * A hash of a random, never-disclosed password, computed on first use and once per parameter set.
 * Verifying against it when a customer has no password makes "no password" cost the same argon2 work
 * as "wrong password", so timing does not reveal which. Pass the configured parameters so the work matches.
 *
 * @example
 * const ok = await verifyPassword(row?.secret_digest ?? (await dummyHash(config.argon2)), password);
 * // and then `ok && row !== null`
 */
export function dummyHash(params: Argon2Params): Promise<string> {
  const key = `${params.memoryCost},${params.timeCost},${params.parallelism}`;
  let pending = dummies.get(key);
  if (!pending) {
    pending = hashPassword(randomBytes(24).toString('base64url'), params);
    // A failed computation must not be remembered: the next caller tries again.
    pending.catch(() => dummies.delete(key));
    dummies.set(key, pending);
  }
  return pending;
}

/** The same as `dummyHash`, under the name the design brief used; keep one once callers settle. */
export const DUMMY_HASH = dummyHash;

/**
 * Why a new password is refused, or `null` if it is acceptable. NIST SP 800-63B style: length only
 * (counted in Unicode code points), no composition rules; a single repeated character is refused.
 *
 * @example
 * passwordPolicyError('aaaaaaaa'); // 'The password must not be one character repeated.'
 * passwordPolicyError('tour eiffel 1889'); // null
 */
export function passwordPolicyError(password: string): string | null {
  const chars = [...password.normalize('NFKC')];
  if (chars.length < MIN_LENGTH) return `The password must be at least ${MIN_LENGTH} characters long.`;
  if (chars.length > MAX_LENGTH) return `The password must be at most ${MAX_LENGTH} characters long.`;
  if (new Set(chars).size === 1) return 'The password must not be one character repeated.';
  return null;
}
