import { describe, expect, it } from 'vitest';
import { CustomerBlocked } from '../../src/core/errors.js';
import {
  assertNotBlocked,
  initialLockoutState,
  isBlocked,
  nextBlockIsPermanent,
  registerFailure,
  registerSuccess,
  unblocked,
  type LockoutPolicy,
  type LockoutState,
} from '../../src/core/lockout.js';

const NOW = new Date('2026-01-15T09:00:00Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);
const policy: LockoutPolicy = { maxAttempts: 5, blockLadderSeconds: [900, 3600, 86400] };

/** `n` consecutive failures from `state`, all at `now`; returns every outcome. */
function fail(n: number, state: LockoutState = initialLockoutState, now = NOW, p = policy) {
  const outcomes = [];
  for (let i = 0; i < n; i++) {
    const o = registerFailure(state, now, p);
    outcomes.push(o);
    state = o.state;
  }
  return { outcomes, state, last: outcomes[outcomes.length - 1]! };
}

describe('lockout: at most 5 consecutive failures', () => {
  it('lets four wrong attempts through with a count-down of the remaining attempts, without a block', () => {
    const { outcomes, state } = fail(4);
    expect(outcomes.map((o) => o.remainingAttempts)).toEqual([4, 3, 2, 1]);
    expect(outcomes.every((o) => o.blocked === null)).toBe(true);
    expect(isBlocked(state, NOW)).toBe(false);
  });

  it('blocks at the fifth consecutive failure, for the first duration of the ladder', () => {
    const { last, state } = fail(5);
    expect(last.blocked).toEqual({ until: at(900), permanent: false });
    expect(last.remainingAttempts).toBe(0);
    expect(state).toEqual({ failedCount: 0, blockLevel: 1, blockedUntil: at(900), permanentlyBlocked: false });
    expect(isBlocked(state, at(899))).toBe(true);
  });

  it('refuses any attempt while blocked, saying until when (the right code would not help)', () => {
    const { state } = fail(5);
    let err: unknown;
    try {
      assertNotBlocked(state, at(60), policy);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CustomerBlocked);
    expect((err as CustomerBlocked).status).toBe(423);
    expect((err as CustomerBlocked).details).toEqual({ blockedUntil: at(900).toISOString(), permanent: false, nextBlockPermanent: false });
  });

  it('lifts a temporary block by itself once its duration has passed', () => {
    const { state } = fail(5);
    expect(isBlocked(state, at(900))).toBe(false);
    expect(() => assertNotBlocked(state, at(900), policy)).not.toThrow();
  });

  it('blocks sooner when the bank configures fewer attempts', () => {
    const strict = { ...policy, maxAttempts: 3 };
    const { outcomes } = fail(3, initialLockoutState, NOW, strict);
    expect(outcomes.map((o) => o.blocked !== null)).toEqual([false, false, true]);
  });
});

describe('lockout: the ladder of blocks', () => {
  it('makes each block of the ladder longer: 15 min, 1 h, 24 h', () => {
    let state = initialLockoutState;
    const durations: number[] = [];
    let now = NOW;
    for (let i = 0; i < 3; i++) {
      const r = fail(5, state, now);
      durations.push((r.last.blocked!.until!.getTime() - now.getTime()) / 1000);
      state = r.state;
      now = r.last.blocked!.until!;
    }
    expect(durations).toEqual([900, 3600, 86400]);
  });

  it('blocks permanently once the ladder is exhausted: no end date, not lifted by time', () => {
    let state = initialLockoutState;
    let now = NOW;
    for (let i = 0; i < 3; i++) {
      const r = fail(5, state, now);
      state = r.state;
      now = r.last.blocked!.until!;
    }
    const { last, state: final } = fail(5, state, now);
    expect(last.blocked).toEqual({ until: null, permanent: true });
    expect(final.permanentlyBlocked).toBe(true);
    expect(isBlocked(final, new Date('2030-01-01T00:00:00Z'))).toBe(true);
    expect(() => assertNotBlocked(final, now, policy)).toThrow(CustomerBlocked);
    try {
      assertNotBlocked(final, now, policy);
    } catch (e) {
      expect((e as CustomerBlocked).details).toEqual({ blockedUntil: null, permanent: true, nextBlockPermanent: false });
      expect((e as CustomerBlocked).message).toMatch(/bank/);
    }
  });

  it('warns the customer while the next block would be permanent, and not before', () => {
    // Ladder of one temporary block: the second block is permanent.
    const short: LockoutPolicy = { maxAttempts: 5, blockLadderSeconds: [60] };
    const first = fail(5, initialLockoutState, NOW, short);
    expect(first.outcomes.slice(0, 4).map((o) => o.nextBlockPermanent)).toEqual([false, false, false, false]);
    // The block that exhausts the ladder carries the warning…
    expect(first.last.blocked).toEqual({ until: at(60), permanent: false });
    expect(first.last.nextBlockPermanent).toBe(true);
    expect(nextBlockIsPermanent(first.state, short)).toBe(true);
    // …the refusal while blocked too…
    try {
      assertNotBlocked(first.state, at(30), short);
    } catch (e) {
      expect((e as CustomerBlocked).details.nextBlockPermanent).toBe(true);
    }
    // …and every failure after it, until the permanent block.
    const second = fail(5, first.state, at(60), short);
    expect(second.outcomes.slice(0, 4).map((o) => o.nextBlockPermanent)).toEqual([true, true, true, true]);
    expect(second.last.blocked).toEqual({ until: null, permanent: true });
  });
});

describe('lockout: success and unblocking', () => {
  it('resets the counter on success: four failures, a success, four failures never block', () => {
    const before = fail(4);
    const reset = registerSuccess();
    expect(reset).toEqual(initialLockoutState);
    const after = fail(4, reset);
    expect(after.outcomes.every((o) => o.blocked === null)).toBe(true);
    expect(after.last.remainingAttempts).toBe(1);
    expect(before.state.failedCount).toBe(4);
  });

  it('resets the ladder on success: the next block is the shortest again', () => {
    const r = fail(5);
    const afterBlock = fail(5, r.state, r.last.blocked!.until!);
    expect(afterBlock.state.blockLevel).toBe(2);
    const again = fail(5, registerSuccess(), NOW);
    expect(again.last.blocked).toEqual({ until: at(900), permanent: false });
  });

  it('an advisor unblock after a reinforced identity check is a fresh start, even from a permanent block', () => {
    const state: LockoutState = { failedCount: 0, blockLevel: 3, blockedUntil: null, permanentlyBlocked: true };
    expect(isBlocked(state, NOW)).toBe(true);
    expect(unblocked(state, true)).toEqual(initialLockoutState);
    expect(isBlocked(unblocked(state, true), NOW)).toBe(false);
  });

  it('a lighter unblock (a call back) lifts a temporary block but keeps the ladder: the next block is the longer one', () => {
    const r = fail(5);
    expect(r.state.blockLevel).toBe(1);
    const lifted = unblocked(r.state, false);
    expect(isBlocked(lifted, NOW)).toBe(false);
    expect(lifted).toEqual({ ...initialLockoutState, blockLevel: 1 });
    const next = fail(5, lifted, NOW);
    expect(next.last.blocked).toEqual({ until: at(3600), permanent: false });
  });

  it('does not change the state it is given (pure)', () => {
    const state: LockoutState = { failedCount: 4, blockLevel: 0, blockedUntil: null, permanentlyBlocked: false };
    const copy = { ...state };
    registerFailure(state, NOW, policy);
    expect(state).toEqual(copy);
  });
});
