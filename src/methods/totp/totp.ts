import { HOTP, Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { safeEqual } from '../../crypto/tokens.js';

/**
 * Pure TOTP building blocks (RFC 6238): secrets, `otpauth://` URIs, QR codes and code matching with
 * single-use steps. No database here: the caller stores `step` as `last_used_step` in the same
 * transaction that accepts the code.
 */

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';
export type TotpDigits = 6 | 7 | 8;

/**
 * The parameters an authenticator app needs. Enrol app-based TOTP with a 30 s period: several popular
 * apps ignore any other; other periods exist for hardware tokens.
 */
export interface TotpParams {
  secretBase32: string;
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  /** Seconds per time step. */
  period: number;
}

/**
 * A new seed: 20 bytes (160 bits, RFC 4226's recommended length) from the CSPRNG, base32-encoded.
 *
 * @example
 * const secret = generateTotpSecret(); // 'JBSWY3DPEHPK3PXP…' (32 characters)
 */
export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/**
 * The `otpauth://totp/…` URI that authenticator apps scan.
 *
 * @example
 * totpUri({ secretBase32, issuer: 'Sésame', accountName: 'alice@bank', algorithm: 'SHA1', digits: 6, period: 30 });
 * // 'otpauth://totp/S%C3%A9same:alice%40bank?issuer=S%C3%A9same&secret=…&algorithm=SHA1&digits=6&period=30'
 */
export function totpUri(p: TotpParams & { issuer: string; accountName: string }): string {
  return new TOTP({
    issuer: p.issuer,
    label: p.accountName,
    secret: Secret.fromBase32(p.secretBase32),
    algorithm: p.algorithm,
    digits: p.digits,
    period: p.period,
  }).toString();
}

/**
 * The enrolment QR code as an SVG document (for web pages).
 *
 * @example
 * const svg = await qrSvg(totpUri(params)); // '<svg xmlns=…'
 */
export function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M' });
}

/**
 * The enrolment QR code drawn with block characters, for `sesame` in a terminal.
 *
 * @example
 * console.log(await qrTerminal(totpUri(params)));
 */
export function qrTerminal(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}

/**
 * The code of one time step (RFC 6238: HOTP with counter = step). `matchTotp` and the test vectors
 * both go through this one function.
 *
 * @example
 * codeAtStep({ secretBase32, algorithm: 'SHA1', digits: 6 }, 59_000_000); // '123456'
 */
export function codeAtStep(p: Omit<TotpParams, 'period'>, step: number): string {
  return HOTP.generate({
    secret: Secret.fromBase32(p.secretBase32),
    algorithm: p.algorithm,
    digits: p.digits,
    counter: step,
  });
}

/** The time step that contains `now`. */
export function stepAt(now: Date, period: number): number {
  return Math.floor(now.getTime() / 1000 / period);
}

export type TotpMatch = { ok: true; step: number } | { ok: false };

/**
 * Checks a submitted code against the steps `current - window … current + window`, accepting only a
 * step strictly after `lastUsedStep`: a code works once, and once a newer step has been used an older
 * one cannot be (RFC 6238 §5.2). Persist the returned `step` as the new `lastUsedStep`.
 *
 * @example
 * const m = matchTotp({ ...params, code: '492039', now: clock.now(), window: 1, lastUsedStep: row.last_used_step });
 * if (m.ok) await saveLastUsedStep(row.id, m.step);
 */
export function matchTotp(p: TotpParams & { code: string; now: Date; window: number; lastUsedStep: number | null }): TotpMatch {
  if (!Number.isInteger(p.window) || p.window < 0) throw new RangeError('TOTP window must be a whole number ≥ 0.');
  if (!Number.isInteger(p.period) || p.period < 1) throw new RangeError('TOTP period must be a whole number ≥ 1.');
  // Refuse malformed input before any HMAC: no work for garbage, and no leading/trailing space tricks.
  if (p.code.length !== p.digits || !/^[0-9]+$/.test(p.code)) return { ok: false };

  const current = stepAt(p.now, p.period);
  const floor = p.lastUsedStep ?? -1;
  let found: number | null = null;
  // Check every candidate (no early exit) so the time taken does not say which step matched.
  for (let step = current - p.window; step <= current + p.window; step++) {
    if (step < 0 || step <= floor) continue;
    if (safeEqual(codeAtStep(p, step), p.code) && found === null) found = step;
  }
  return found === null ? { ok: false } : { ok: true, step: found };
}
