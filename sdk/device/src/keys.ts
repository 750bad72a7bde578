import { fromBase64Url, toBase64Url, utf8 } from './encoding.js';

/**
 * The installation's keys, WebCrypto only (browsers and Node ≥ 20 alike).
 *
 * - **Possession**: an ECDSA P-256 key pair generated on the device, its private key non-extractable
 *   (the platform keeps it; in a browser it is stored as a CryptoKey in IndexedDB and never leaves).
 *   The server holds the public key. It signs approvals and every API request.
 * - **Offline possession**: a symmetric key for the offline mode, where the answer must be a few digits
 *   the customer types (a signature does not fit); imported non-extractable once sent at activation.
 * - **Knowledge**: see `pin-vault.ts`.
 */

export interface PossessionKey {
  privateKey: CryptoKey;
  publicJwk: JsonWebKey;
}

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export async function generatePossessionKey(): Promise<PossessionKey> {
  const pair = (await crypto.subtle.generateKey(ECDSA, false, ['sign', 'verify'])) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  return { privateKey: pair.privateKey, publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } };
}

/** ECDSA P-256 / SHA-256 signature, IEEE P1363 (r‖s, 64 bytes), base64url. */
export async function signWithPossession(key: CryptoKey, data: Uint8Array): Promise<string> {
  return toBase64Url(await crypto.subtle.sign(SIGN, key, data as BufferSource));
}

export async function verifyPossession(publicJwk: JsonWebKey, data: Uint8Array, signature: string): Promise<boolean> {
  let sig: Uint8Array;
  try {
    sig = fromBase64Url(signature);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  const key = await crypto.subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x: publicJwk.x, y: publicJwk.y }, ECDSA, false, ['verify']);
  return crypto.subtle.verify(SIGN, key, sig as BufferSource, data as BufferSource);
}

/** 32 random bytes from the platform's CSPRNG. */
export const randomKeyBytes = (): Uint8Array => crypto.getRandomValues(new Uint8Array(32));

/** Imports raw key bytes as a non-extractable HMAC-SHA-256 key. */
export const hmacKey = (raw: Uint8Array): Promise<CryptoKey> =>
  crypto.subtle.importKey('raw', raw as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);

export async function hmac(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data as BufferSource));
}

/** A random request nonce (128 bits, base64url). */
export const randomNonce = (): string => toBase64Url(crypto.getRandomValues(new Uint8Array(16)));

export { utf8 };
