import { HOTP, Secret } from 'otpauth';
import { safeEqual } from '../../crypto/tokens.js';

/**
 * Pure HOTP building blocks (RFC 4226) for hardware OATH tokens: code matching with a look-ahead
 * window and resynchronisation by two consecutive codes. No database here: the caller stores
 * `nextCounter` in the same transaction that accepts the code, so a code works once.
 */

export type HotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface HotpParams {
  /** The token's seed, raw bytes. */
  secret: Buffer;
  /** Code length: 6 to 10 (RFC 4226 §5.3 requires at least 6; dynamic truncation gives 31 bits). */
  digits: number;
  /** HMAC hash; hardware tokens almost always use SHA1 (the RFC 4226 default). */
  algorithm?: HotpAlgorithm;
}

export type HotpMatch = { ok: true; nextCounter: number } | { ok: false };

/** Most tokens are pressed a few times by accident; more than this is a resync, not a look-ahead. */
const MAX_LOOK_AHEAD = 1_000;
/** A resync window wider than this costs too many HMACs per request and weakens the 2-code check. */
const MAX_RESYNC_WINDOW = 100_000;

/**
 * The code for one counter value, through `otpauth` (RFC 4226 §5.3 dynamic truncation).
 *
 * @example
 * hotpCode({ secret: Buffer.from('12345678901234567890'), digits: 6 }, 0); // '755224'
 */
export function hotpCode(p: HotpParams, counter: number): string {
  return HOTP.generate({
    // A copy: a Buffer may be a view into Node's shared pool, and otpauth reads the whole ArrayBuffer.
    secret: new Secret({ buffer: Uint8Array.from(p.secret).buffer }),
    algorithm: p.algorithm ?? 'SHA1',
    digits: p.digits,
    counter,
  });
}

/**
 * Checks a code against the counters `counter … counter + lookAhead` (RFC 4226 §7.4: the token's
 * counter runs ahead when its button is pressed without the code being used). On success, persist
 * `nextCounter` (the matched counter + 1): the matched code and every earlier one are then refused.
 *
 * @example
 * const m = matchHotp({ secret, digits: 6, code: '287082', counter: row.next_counter, lookAhead: 10 });
 * if (m.ok) await saveNextCounter(row.id, m.nextCounter); // 2 when row.next_counter was 0 or 1
 */
export function matchHotp(p: HotpParams & { code: string; counter: number; lookAhead: number }): HotpMatch {
  checkParams(p, p.counter);
  checkWindow('lookAhead', p.lookAhead, MAX_LOOK_AHEAD);
  // Refuse malformed input before any HMAC: no work for garbage, no leading/trailing space tricks.
  if (!wellFormed(p.code, p.digits)) return { ok: false };

  let found: number | null = null;
  // Every candidate is checked (no early exit) so the time taken does not say which counter matched.
  for (let c = p.counter; c <= p.counter + p.lookAhead; c++) {
    if (safeEqual(hotpCode(p, c), p.code) && found === null) found = c;
  }
  return found === null ? { ok: false } : { ok: true, nextCounter: found + 1 };
}

/**
 * Resynchronises a token whose counter has run far ahead: the customer enters two consecutive codes,
 * and the pair must appear at counters `c, c + 1` with `counter ≤ c < counter + resyncWindow`
 * (RFC 4226 §7.4). Two codes in a row over a wide window keep the chance of a guess low, which one
 * code over the same window would not. On success, persist `nextCounter` (c + 2).
 *
 * @example
 * const r = resyncHotp({ secret, digits: 6, code1: '969429', code2: '338314', counter: 0, resyncWindow: 500 });
 * // { ok: true, nextCounter: 5 }
 */
export function resyncHotp(p: HotpParams & { code1: string; code2: string; counter: number; resyncWindow: number }): HotpMatch {
  checkParams(p, p.counter);
  checkWindow('resyncWindow', p.resyncWindow, MAX_RESYNC_WINDOW);
  if (p.resyncWindow < 1) throw new RangeError('HOTP resyncWindow must be at least 1.');
  if (!wellFormed(p.code1, p.digits) || !wellFormed(p.code2, p.digits)) return { ok: false };

  let found: number | null = null;
  let current = hotpCode(p, p.counter);
  for (let c = p.counter; c < p.counter + p.resyncWindow; c++) {
    const next = hotpCode(p, c + 1);
    // Both comparisons always run (`&` not `&&`): the time taken does not say which code matched.
    const both = Number(safeEqual(current, p.code1)) & Number(safeEqual(next, p.code2));
    if (both === 1 && found === null) found = c;
    current = next;
  }
  return found === null ? { ok: false } : { ok: true, nextCounter: found + 2 };
}

function wellFormed(code: string, digits: number): boolean {
  return typeof code === 'string' && code.length === digits && /^[0-9]+$/.test(code);
}

function checkParams(p: HotpParams, counter: number): void {
  if (!Number.isInteger(p.digits) || p.digits < 6 || p.digits > 10)
    throw new RangeError('HOTP digits must be a whole number from 6 to 10.');
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('HOTP counter must be a whole number ≥ 0.');
  if (p.secret.length === 0) throw new RangeError('HOTP secret must not be empty.');
}

function checkWindow(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`HOTP ${name} must be a whole number from 0 to ${max}.`);
}
