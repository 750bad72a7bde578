import { CustomerBlocked } from './errors.js';

/**
 * Consecutive failed attempts and blocks (RTS art. 4(3)(b)): one counter per customer across all
 * methods. At the limit (≤ 5) a temporary block from a ladder; once the ladder is exhausted the next
 * block is permanent and only a secure, audited procedure lifts it. The customer is warned while the
 * next block would be permanent.
 */
export interface LockoutPolicy {
  /** Consecutive failures that trigger a block: 1..5. */
  maxAttempts: number;
  /** Durations (seconds) of the successive temporary blocks; the block after the last is permanent. */
  blockLadderSeconds: readonly number[];
}

export interface LockoutState {
  failedCount: number;
  /** How many temporary blocks were imposed since the last success. */
  blockLevel: number;
  blockedUntil: Date | null;
  permanentlyBlocked: boolean;
}

export const initialLockoutState: LockoutState = {
  failedCount: 0,
  blockLevel: 0,
  blockedUntil: null,
  permanentlyBlocked: false,
};

export interface FailureOutcome {
  state: LockoutState;
  /** Set when this failure imposed a block. */
  blocked: { until: Date | null; permanent: boolean } | null;
  remainingAttempts: number;
  /** True when the next block would be permanent: the customer must be warned. */
  nextBlockPermanent: boolean;
}

export function isBlocked(state: LockoutState, now: Date): boolean {
  return state.permanentlyBlocked || (state.blockedUntil !== null && state.blockedUntil > now);
}

export function nextBlockIsPermanent(state: LockoutState, policy: LockoutPolicy): boolean {
  return state.blockLevel >= policy.blockLadderSeconds.length;
}

/** Throws the (non-generic, since it reveals nothing about elements) block error when blocked. */
export function assertNotBlocked(state: LockoutState, now: Date, policy: LockoutPolicy): void {
  if (!isBlocked(state, now)) return;
  throw new CustomerBlocked({
    blockedUntil: state.permanentlyBlocked ? null : state.blockedUntil!.toISOString(),
    permanent: state.permanentlyBlocked,
    nextBlockPermanent: !state.permanentlyBlocked && nextBlockIsPermanent(state, policy),
  });
}

/** Counts one failed attempt; imposes the next block of the ladder at the limit. */
export function registerFailure(state: LockoutState, now: Date, policy: LockoutPolicy): FailureOutcome {
  const failedCount = state.failedCount + 1;
  if (failedCount < policy.maxAttempts) {
    const next = { ...state, failedCount };
    return {
      state: next,
      blocked: null,
      remainingAttempts: policy.maxAttempts - failedCount,
      nextBlockPermanent: nextBlockIsPermanent(next, policy),
    };
  }
  if (nextBlockIsPermanent(state, policy)) {
    const next = { failedCount: 0, blockLevel: state.blockLevel, blockedUntil: null, permanentlyBlocked: true };
    return { state: next, blocked: { until: null, permanent: true }, remainingAttempts: 0, nextBlockPermanent: false };
  }
  const until = new Date(now.getTime() + policy.blockLadderSeconds[state.blockLevel]! * 1000);
  const next = { failedCount: 0, blockLevel: state.blockLevel + 1, blockedUntil: until, permanentlyBlocked: false };
  return {
    state: next,
    blocked: { until, permanent: false },
    remainingAttempts: 0,
    nextBlockPermanent: nextBlockIsPermanent(next, policy),
  };
}

/** A successful SCA resets the counter and the ladder. */
export function registerSuccess(): LockoutState {
  return { ...initialLockoutState };
}

/**
 * Lifting a block after a secure procedure. A reinforced identity check (an ID document seen in branch or
 * on video) is a fresh start; a lighter one (a call back to the registered number) lifts the block but
 * keeps the ladder, so that someone who talked an advisor into it still goes on towards the permanent block.
 */
export function unblocked(state: LockoutState, reinforced: boolean): LockoutState {
  return reinforced ? { ...initialLockoutState } : { ...initialLockoutState, blockLevel: state.blockLevel };
}
