import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DISPATCH_BATCH, sendTogether, startDispatchLoop } from '../../src/events/dispatch.js';

/**
 * The loop both outboxes (webhook events, SMS/calls/email) run on: a backlog is worked off pass after
 * pass, while an outbox with little in it is looked at once per interval. Fake timers: no sleeping.
 */
const HOUR = 3_600_000;

describe('the dispatch loop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A pass that claims, in turn, the counts given, then nothing. */
  function passes(...claims: number[]) {
    const ran: number[] = [];
    const pass = async () => {
      const claimed = claims[ran.length] ?? 0;
      ran.push(claimed);
      return claimed;
    };
    return { ran, pass };
  }

  it('after a full batch the next pass starts at once, so a backlog drains without waiting an interval per batch', async () => {
    const { ran, pass } = passes(DISPATCH_BATCH, DISPATCH_BATCH, DISPATCH_BATCH, 7, 3);
    const loop = startDispatchLoop(pass, HOUR);
    loop.kick();
    await vi.advanceTimersByTimeAsync(0);
    // Three full batches and the partial one that ends the backlog: all without the clock moving.
    expect(ran).toEqual([DISPATCH_BATCH, DISPATCH_BATCH, DISPATCH_BATCH, 7]);
    // A partial batch means the outbox is empty for now: the next look is one interval later.
    await vi.advanceTimersByTimeAsync(HOUR - 1);
    expect(ran).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual([DISPATCH_BATCH, DISPATCH_BATCH, DISPATCH_BATCH, 7, 3]);
    await loop.stop();
  });

  it('a pass that fails (the database is away) is tried again one interval later, not in a tight loop', async () => {
    let calls = 0;
    const loop = startDispatchLoop(async () => {
      calls++;
      throw new Error('connection refused');
    }, HOUR);
    loop.kick();
    await vi.advanceTimersByTimeAsync(HOUR - 1);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await loop.stop();
  });

  it('a kick during a pass runs one more pass after it; stop() waits for the running pass and ends the loop', async () => {
    let release!: () => void;
    const ran: string[] = [];
    const loop = startDispatchLoop(async () => {
      ran.push('pass');
      if (ran.length === 1) await new Promise<void>((r) => (release = r));
      return 1;
    }, HOUR);
    loop.kick();
    await vi.advanceTimersByTimeAsync(0);
    loop.kick();
    loop.kick();
    expect(ran).toHaveLength(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    // The two kicks during the first pass asked for one more look, not two.
    expect(ran).toHaveLength(2);
    await loop.stop();
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(ran).toHaveLength(2);
  });
});

describe('sending a batch together', () => {
  it('a row that throws does not stop the others; it is counted and logged by id, never with its content', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const sent: string[] = [];
      const errored = await sendTogether([{ id: 'm1' }, { id: 'm2' }, { id: 'm3' }], 'message', async (row) => {
        await Promise.resolve();
        if (row.id === 'm2') throw new TypeError('payload for +33612345678: code 123456');
        sent.push(row.id);
      });
      expect(errored).toBe(1);
      expect(sent).toEqual(['m1', 'm3']);
      expect(warn).toHaveBeenCalledTimes(1);
      const logged = String(warn.mock.calls[0]![0]);
      expect(logged).toContain('m2');
      expect(logged).toContain('TypeError');
      expect(logged).not.toMatch(/123456|\+336/);
    } finally {
      warn.mockRestore();
    }
  });
});
