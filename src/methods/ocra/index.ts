import { createHash } from 'node:crypto';
import type { AuthenticatorRow, OperationRow } from '../../store/schema.js';
import type { AuthMethod, Decision } from '../types.js';
import { ocraChallengeFromLinkHash, parseOcraSuite, verifyOcra, type OcraSuite } from './ocra.js';

/** What is stored in `authenticators.params` for an OCRA token (the key is sealed apart). */
export interface StoredOcraParams {
  serial: string;
  /** The OCRASuite, verbatim (it is part of the HMAC input). */
  suite: string;
  /** `C` suites: the token's counter when it was imported. */
  counter?: number;
}

/** Where an OCRA key is sealed: bound to its authenticator row. */
export const ocraSealContext = (authenticatorId: string) => `ocra:${authenticatorId}`;

/** `C` suites: counters accepted ahead of the last used (as for HOTP: a few accidental presses). */
const OCRA_COUNTER_LOOK_AHEAD = 10;
/** `T` suites: one step either side, for the token's clock drift and the time the customer takes to type. */
const OCRA_TIME_DRIFT = 1;

/**
 * The challenge a customer types on the token for one operation: derived from the operation's id and
 * its link hash (amount, payee…), so the response signs this operation and no other — two identical
 * payments still get different challenges — and the server re-derives it instead of trusting one sent back.
 *
 * @example
 * ocraChallengeFor(operation, parseOcraSuite('OCRA-1:HOTP-SHA1-6:QN08')); // e.g. '04719385'
 */
export function ocraChallengeFor(op: Pick<OperationRow, 'id' | 'link_hash'>, suite: OcraSuite): string {
  const bound = createHash('sha256').update(`${op.id}.${op.link_hash}`).digest('base64url');
  return ocraChallengeFromLinkHash(bound, suite.question.maxLength);
}

/**
 * Checks a response to `question` and says what it uses up: the counter (`C` suites) or the time step
 * (`T` suites) becomes `last_used_step` and is never accepted again. A suite with neither relies on the
 * challenge alone, which is bound to one operation that can be authorised once.
 */
export function checkOcra(
  key: Buffer,
  a: Pick<AuthenticatorRow, 'last_used_step' | 'params'>,
  question: string,
  response: string,
  now: Date,
): Decision {
  const params = a.params as unknown as StoredOcraParams;
  const suite = parseOcraSuite(params.suite);
  const last = a.last_used_step === null ? null : Number(a.last_used_step);
  const v = verifyOcra({
    suite,
    key,
    question,
    response,
    ...(suite.counter && { counter: last === null ? (params.counter ?? 0) : last + 1, counterLookAhead: OCRA_COUNTER_LOOK_AHEAD }),
    ...(suite.timeStep !== null && { timestamp: now, timeDrift: OCRA_TIME_DRIFT }),
  });
  if (!v.ok) return { ok: false };
  if (v.nextCounter !== undefined) return { ok: true, change: { lastUsedStep: v.nextCounter - 1 } };
  if (v.timeStep !== undefined)
    return last !== null && v.timeStep <= last ? { ok: false } : { ok: true, change: { lastUsedStep: v.timeStep } };
  return { ok: true, change: {} };
}

/** OCRA challenge-response token (possession, RFC 6287), signing the operation's own challenge (dynamic linking). */
export const ocraMethod: AuthMethod = {
  kind: 'ocra',
  category: 'possession',
  multiple: true,
  check(ctx, authenticator, proof) {
    if (!authenticator || !authenticator.secret_sealed) return { ok: false };
    // The suite was validated at import; a wrong or malformed response is a plain refusal, never a throw.
    const suite = parseOcraSuite((authenticator.params as unknown as StoredOcraParams).suite);
    const key = ctx.deps.sealer.open(authenticator.secret_sealed, ocraSealContext(authenticator.id));
    return checkOcra(key, authenticator, ocraChallengeFor(ctx.operation, suite), proof.code ?? '', ctx.now);
  },
};
