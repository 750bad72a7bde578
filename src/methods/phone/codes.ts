import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { OperationRow } from '../../store/schema.js';

/** One-time codes sent by SMS or voice call: generation and keyed hashing (no I/O). */

/** Decimal digits from the CSPRNG (uniform: `randomInt` rejects biased draws). */
export function newOtpCode(digits: number): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0');
}

/** Keyed hash of a code, bound to its challenge, its operation and what the operation says (link hash). */
export function otpHash(key: Buffer, challengeId: string, op: Pick<OperationRow, 'id' | 'link_hash'>, code: string): string {
  return createHmac('sha256', key).update(`otp\0${challengeId}\0${op.id}\0${op.link_hash}\0${code}`).digest('base64url');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
