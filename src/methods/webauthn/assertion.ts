import {
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoBase64URL } from '@simplewebauthn/server/helpers';
import { InvalidRequest } from '../../core/errors.js';

/**
 * WebAuthn ceremonies checked with @simplewebauthn/server, wrapped so that callers get a verdict, never an
 * exception, for anything a client sent: passkeys and security keys (`methods/webauthn`) and the app
 * authenticator's biometric key use the same checks.
 */

/** A registered credential as stored (every binary field base64url). */
export interface StoredWebAuthnCredential {
  credentialId: string;
  /** COSE public key. */
  publicKey: string;
  counter: number;
  transports?: string[] | undefined;
}

export interface AssertionVerdict {
  /** Signature, challenge, origin, RP ID, user presence (and verification when required) all check out, counter included. */
  ok: boolean;
  /** The counter the authenticator reported (store it when `ok`). */
  newCounter: number;
  userVerified: boolean;
  /**
   * A genuine signature with a counter that did not move forward: two copies of the key exist (a cloned
   * security key). Never `ok`.
   */
  cloneSuspected: boolean;
}

/**
 * Verifies an assertion (`navigator.credentials.get()`, as `@simplewebauthn/browser` serialises it)
 * against one stored credential. Never throws for a bad assertion: the verdict says no.
 *
 * @example
 * const v = await verifyWebAuthnAssertion({
 *   stored: { credentialId, publicKey, counter: 7 },
 *   response: body.credential,
 *   expectedChallenge: row.challenge,
 *   requireUserVerification: true,
 *   rpId: 'bank.example',
 *   origins: ['https://bank.example'],
 * });
 * if (v.cloneSuspected) suspend(); else if (v.ok) saveCounter(v.newCounter);
 */
export async function verifyWebAuthnAssertion(a: {
  stored: StoredWebAuthnCredential;
  response: unknown;
  expectedChallenge: string;
  requireUserVerification: boolean;
  rpId: string;
  origins: string[];
}): Promise<AssertionVerdict> {
  const no = { ok: false, newCounter: a.stored.counter, userVerified: false, cloneSuspected: false };
  const response = a.response as AuthenticationResponseJSON;
  if (!isObject(response) || response.id !== a.stored.credentialId || response.rawId !== a.stored.credentialId) return no;
  try {
    const v = await verifyAuthenticationResponse({
      response,
      expectedChallenge: a.expectedChallenge,
      expectedOrigin: a.origins,
      expectedRPID: a.rpId,
      // The counter is compared below, after the signature: a regression with a valid signature is a clone.
      credential: {
        id: a.stored.credentialId,
        publicKey: isoBase64URL.toBuffer(a.stored.publicKey),
        counter: 0,
        transports: a.stored.transports as AuthenticatorTransport[] | undefined,
      },
      requireUserVerification: a.requireUserVerification,
    });
    if (!v.verified) return no;
    const { newCounter, userVerified } = v.authenticationInfo;
    // Authenticators without a counter report 0 forever (passkeys synced across devices): nothing to compare.
    const cloneSuspected = (newCounter > 0 || a.stored.counter > 0) && newCounter <= a.stored.counter;
    return { ok: !cloneSuspected, newCounter, userVerified, cloneSuspected };
  } catch {
    return no;
  }
}

/** What a verified registration yields, ready to store. */
export interface RegisteredWebAuthnCredential extends StoredWebAuthnCredential {
  /** Authenticator model, lower-case UUID (all zeros when the authenticator does not say). */
  aaguid: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  attestationFormat: string;
  userVerified: boolean;
}

/**
 * Verifies a registration (`navigator.credentials.create()`): challenge, origin, RP ID, user verification
 * and the attestation statement when there is one. Null for anything wrong (never throws).
 *
 * @example
 * const cred = await verifyWebAuthnRegistration({ response: body, expectedChallenge, rpId, origins, requireUserVerification: true });
 * if (!cred) throw new Unprocessable('ERR_WEBAUTHN_REGISTRATION', '…');
 */
export async function verifyWebAuthnRegistration(a: {
  response: unknown;
  expectedChallenge: string;
  requireUserVerification: boolean;
  rpId: string;
  origins: string[];
}): Promise<RegisteredWebAuthnCredential | null> {
  const response = a.response as RegistrationResponseJSON;
  if (!isObject(response) || !isObject(response.response)) return null;
  try {
    const v = await verifyRegistrationResponse({
      response,
      expectedChallenge: a.expectedChallenge,
      expectedOrigin: a.origins,
      expectedRPID: a.rpId,
      requireUserVerification: a.requireUserVerification,
    });
    if (!v.verified) return null;
    const info = v.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: isoBase64URL.fromBuffer(info.credential.publicKey),
      counter: info.credential.counter,
      transports: sanitiseTransports(response.response.transports),
      aaguid: info.aaguid.toLowerCase(),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      attestationFormat: info.fmt,
      userVerified: info.userVerified,
    };
  } catch {
    return null;
  }
}

/** The challenge an assertion or registration answers, as echoed in its clientDataJSON (null if unreadable). */
export function challengeOf(response: unknown): string | null {
  try {
    const r = response as { response?: { clientDataJSON?: unknown } };
    if (!isObject(r) || !isObject(r.response) || typeof r.response.clientDataJSON !== 'string') return null;
    const clientData = JSON.parse(isoBase64URL.toUTF8String(r.response.clientDataJSON)) as { challenge?: unknown };
    return typeof clientData.challenge === 'string' && clientData.challenge.length <= 128 ? clientData.challenge : null;
  } catch {
    return null;
  }
}

/** The challenge a client's answer echoes; a 400 naming `field` (where the answer sits in the request) when it has none. */
export function requireChallengeOf(response: unknown, field: string): string {
  const challenge = challengeOf(response);
  if (!challenge) throw new InvalidRequest('ERR_WEBAUTHN_RESPONSE', `${field} is not a WebAuthn client data object.`, { field });
  return challenge;
}

const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

function sanitiseTransports(t: unknown): string[] | undefined {
  return Array.isArray(t) ? t.filter((x): x is string => typeof x === 'string' && TRANSPORTS.has(x)) : undefined;
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
