import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Opaque bearer token from the CSPRNG: `prefix_` + 32 random bytes (256 bits) in base64url. */
export function newToken(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

/**
 * Stored form of a high-entropy token (API keys, session tokens): SHA-256 is enough when the token
 * carries ≥ 128 random bits; the clear token is never stored.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** Keyed hash for low-entropy secrets (one-time codes, recovery codes): useless without the key. */
export function keyedHash(key: Buffer, ...parts: string[]): string {
  const mac = createHmac('sha256', key);
  for (const p of parts) mac.update(String(p.length)).update(':').update(p, 'utf8');
  return mac.digest('base64url');
}

/** Constant-time comparison of two strings (hashes, codes). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab); // keep the work comparable
    return false;
  }
  return timingSafeEqual(ab, bb);
}

export function newId(): string {
  return crypto.randomUUID();
}
