import { createHmac, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { Sealer } from '../../crypto/seal.js';
import type { AuthenticatorRow } from '../../store/schema.js';

/** What an app installation stores in `authenticators.params` (public material and settings only). */
export interface AppParams {
  possessionKey: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  deviceName: string;
  platform: string;
  /** The relying party that activated it: operations the device itself starts (PIN change) are its. */
  rpId: string;
  attestation: { verdict: string; format: string | null };
  biometric: {
    credentialId: string;
    publicKey: string;
    counter: number;
    transports?: string[] | undefined;
    login: boolean;
    operations: boolean;
  } | null;
  /** Days the device approved something (trusted-device rule) and when it became trusted. */
  useDays: string[];
  trustedAt: string | null;
}

/** The symmetric keys shared at activation, sealed together under the authenticator's id. */
export interface AppSecrets {
  knowledge: string;
  offline: string;
  /**
   * How many times the knowledge key was replaced (PIN changes). The app, when the answer to a change was
   * lost, reads it to know which key the server holds: a count, which says nothing about the PIN.
   */
  pinChanges?: number;
}

/** Where the authentication code of an approved request is sealed until the bank fetches it. */
export const approvalCodeSealContext = (approvalId: string) => `app-approval:${approvalId}`;

export const appSealContext = (authenticatorId: string) => `app:${authenticatorId}`;

export function openAppSecrets(sealer: Sealer, a: Pick<AuthenticatorRow, 'id' | 'secret_sealed'>): AppSecrets | null {
  if (!a.secret_sealed) return null;
  return JSON.parse(sealer.open(a.secret_sealed, appSealContext(a.id)).toString('utf8')) as AppSecrets;
}

export const sealAppSecrets = (sealer: Sealer, authenticatorId: string, secrets: AppSecrets) =>
  sealer.seal(JSON.stringify(secrets), appSealContext(authenticatorId));

// Parsing a JWK costs more than a verification: keep the last few thousand installations' keys.
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_MAX = 10_000;

function publicKeyOf(jwk: AppParams['possessionKey']): KeyObject {
  const id = `${jwk.x}.${jwk.y}`;
  let key = keyCache.get(id);
  if (!key) {
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, key);
  }
  return key;
}

/** ECDSA P-256 / SHA-256 in IEEE P1363 form, as WebCrypto signs. False for anything malformed. */
export function verifyPossessionSignature(jwk: AppParams['possessionKey'], data: Uint8Array, signature: string): boolean {
  if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return false;
  try {
    return verify('sha256', data, { key: publicKeyOf(jwk), dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** A public key as the device sent it, checked to be a P-256 point (throws otherwise). */
export function parsePossessionKey(jwk: { kty?: unknown; crv?: unknown; x?: unknown; y?: unknown }): AppParams['possessionKey'] {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') {
    throw new TypeError('possessionKey must be a P-256 public JWK.');
  }
  const key = { kty: 'EC' as const, crv: 'P-256' as const, x: jwk.x, y: jwk.y };
  createPublicKey({ key, format: 'jwk' }); // throws for a point not on the curve
  return key;
}

export function hmacOf(keyB64: string, data: Uint8Array): Buffer {
  return createHmac('sha256', Buffer.from(keyB64, 'base64url')).update(data).digest();
}
