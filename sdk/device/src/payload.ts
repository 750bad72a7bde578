import canonicalize from 'canonicalize';
import { sha256, toBase64Url, utf8 } from './encoding.js';

/**
 * What the app signs, byte for byte the same on the device and on the server. An approval binds the
 * operation's data as the app displayed it (through its link hash: SHA-256 of the RFC 8785 canonical JSON,
 * exactly as the server computes it), the approval request's nonce, the device's counter and the number
 * the customer picked. Show 1 € more, or another payee, and the server's own payload no longer matches.
 */

/** The operation as the server sent it to the app: `type` plus the fields of that type. */
export type OperationData = { type: string } & Record<string, unknown>;

export interface ApprovalPayloadInput {
  authenticatorId: string;
  approvalId: string;
  operationId: string;
  linkHash: string;
  nonce: string;
  counter: number;
  decision: 'approve' | 'refuse';
  /** Number matching (logins): the number picked; null when the request had none. */
  numberChoice: number | null;
}

export function approvalPayload(p: ApprovalPayloadInput): Uint8Array {
  return utf8(
    'sesame-approval-v1\n' +
      canonicalize({
        authenticatorId: p.authenticatorId,
        approvalId: p.approvalId,
        operationId: p.operationId,
        linkHash: p.linkHash,
        nonce: p.nonce,
        counter: p.counter,
        decision: p.decision,
        numberChoice: p.numberChoice,
      }),
  );
}

/** The link hash of operation data (what the server stores for the operation). */
export async function linkHashOf(data: OperationData): Promise<string> {
  const json = canonicalize(data);
  if (json === undefined) throw new TypeError('Operation data cannot be canonicalised.');
  return toBase64Url(await sha256(json));
}

export interface SignedRequestParts {
  method: string;
  path: string;
  ts: number;
  nonce: string;
}

/**
 * A signed request to the device API: method, path with query, time, a random nonce and the body's
 * digest. The server refuses a stale time or a nonce it has seen.
 */
export async function requestSigningInput(r: SignedRequestParts & { body: string }): Promise<Uint8Array> {
  return requestSigningInputWithDigest(r, toBase64Url(await sha256(r.body)));
}

/** The same, given the body's SHA-256 (base64url): a server computes it synchronously, without WebCrypto. */
export function requestSigningInputWithDigest(r: SignedRequestParts, bodyDigest: string): Uint8Array {
  return utf8(`sesame-request-v1\n${r.method.toUpperCase()}\n${r.path}\n${r.ts}\n${r.nonce}\n${bodyDigest}`);
}

/**
 * Offline mode: the QR code carries the operation signed by the server; the app shows it and turns its
 * possession and knowledge keys into two groups of 8 digits the customer types on the page.
 */
export function offlinePayload(p: {
  authenticatorId: string;
  challengeId: string;
  operationId: string;
  linkHash: string;
  nonce: string;
}): Uint8Array {
  return utf8(
    'sesame-offline-v1\n' +
      canonicalize({
        authenticatorId: p.authenticatorId,
        challengeId: p.challengeId,
        operationId: p.operationId,
        linkHash: p.linkHash,
        nonce: p.nonce,
      }),
  );
}

/** RFC 4226 dynamic truncation of an HMAC to `digits` decimal digits. */
export function truncateToDigits(mac: Uint8Array, digits = 8): string {
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 10 ** digits).padStart(digits, '0');
}
