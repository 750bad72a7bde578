import type { AuthenticatorRow } from '../../store/schema.js';
import type { AuthMethod } from '../types.js';
import { matchHotp, type HotpAlgorithm } from './hotp.js';

/** What is stored in `authenticators.params` for a hardware HOTP token (the seed is sealed apart). */
export interface StoredHotpParams {
  serial: string;
  digits: number;
  algorithm: HotpAlgorithm;
  /** The token's counter when it was imported: the first code expected, before any code was used. */
  counter: number;
}

/** Where a HOTP seed is sealed: bound to its authenticator row. */
export const hotpSealContext = (authenticatorId: string) => `hotp:${authenticatorId}`;

/**
 * Codes accepted ahead of the last one used (RFC 4226 §7.4). Why a constant and not configuration: a
 * keyring token is pressed by accident a few times, not dozens; a wider window multiplies the chance of a
 * guessed code by as much, and a token that ran further ahead is brought back by resync (two codes).
 */
export const HOTP_LOOK_AHEAD = 10;
/** Counters a resync searches (two consecutive codes, so a guess stays at ~100 / 10^12 for 6 digits). */
export const HOTP_RESYNC_WINDOW = 100;

/** The first counter a new code may be at: one past the last used, or the token's counter before any use. */
export function nextHotpCounter(a: Pick<AuthenticatorRow, 'last_used_step' | 'params'>): number {
  return a.last_used_step === null ? (a.params as unknown as StoredHotpParams).counter : Number(a.last_used_step) + 1;
}

/**
 * HOTP hardware token (possession, RFC 4226). `last_used_step` holds the last counter used: a code is
 * accepted only at a later counter, within the look-ahead, and the attempt's commit applies only if
 * nobody used a code of this token meanwhile — a code works once, even for two processes at once.
 */
export const hotpMethod: AuthMethod = {
  kind: 'hotp',
  category: 'possession',
  multiple: true,
  check(ctx, authenticator, proof) {
    if (!authenticator || !authenticator.secret_sealed) return { ok: false };
    const params = authenticator.params as unknown as StoredHotpParams;
    const match = matchHotp({
      secret: ctx.deps.sealer.open(authenticator.secret_sealed, hotpSealContext(authenticator.id)),
      digits: params.digits,
      algorithm: params.algorithm,
      code: proof.code ?? '',
      counter: nextHotpCounter(authenticator),
      lookAhead: HOTP_LOOK_AHEAD,
    });
    return match.ok ? { ok: true, change: { lastUsedStep: match.nextCounter - 1 } } : { ok: false };
  },
};
