import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, verifyChain, type ChainedEventBody } from '../../src/core/audit-chain.js';

type Event = ChainedEventBody & { prevHash: string; hash: string };

function build(n: number, chain = 'customer:c1'): Event[] {
  const events: Event[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body: ChainedEventBody = {
      chain,
      seq,
      type: seq % 2 ? 'sca.failed' : 'sca.succeeded',
      actor: 'customer:c1',
      at: new Date(Date.UTC(2026, 0, 15, 9, 0, seq)).toISOString(),
      data: { operationId: `op${seq}`, methods: ['password', 'totp'] },
    };
    const hash = chainHash(prev, body);
    events.push({ ...body, prevHash: prev, hash });
    prev = hash;
  }
  return events;
}
const headOf = (events: Event[]) => ({ seq: events.at(-1)!.seq, hash: events.at(-1)!.hash });

describe('audit chain: any change is detected', () => {
  it('verifies an untouched chain against its head', () => {
    const events = build(5);
    expect(verifyChain(events, headOf(events))).toBeNull();
  });

  it('detects a changed event data at its sequence number', () => {
    const events = build(5);
    const head = headOf(events);
    events[2] = { ...events[2]!, data: { ...events[2]!.data, methods: ['password'] } };
    expect(verifyChain(events, head)).toEqual({ chain: 'customer:c1', seq: 3, reason: 'hash-mismatch' });
  });

  it('detects a changed type, actor or time', () => {
    for (const change of [{ type: 'sca.succeeded' }, { actor: 'advisor:x' }, { at: '2026-01-15T10:00:00.000Z' }]) {
      const events = build(3);
      const head = headOf(events);
      events[0] = { ...events[0]!, ...change };
      expect(verifyChain(events, head)?.seq).toBe(1);
    }
  });

  it('detects a changed event even when its own hash was recomputed (the next link breaks)', () => {
    const events = build(4);
    const head = headOf(events);
    const { prevHash, hash: _h, ...body } = events[1]!;
    const forged = { ...body, data: { operationId: 'forged' } };
    events[1] = { ...forged, prevHash, hash: chainHash(prevHash, forged) };
    expect(verifyChain(events, head)).toEqual({ chain: 'customer:c1', seq: 3, reason: 'hash-mismatch' });
  });

  it('detects a deleted event in the middle', () => {
    const events = build(5);
    const head = headOf(events);
    events.splice(2, 1);
    expect(verifyChain(events, head)).toEqual({ chain: 'customer:c1', seq: 3, reason: 'gap' });
  });

  it('detects a deleted last event thanks to the head', () => {
    const events = build(5);
    const head = headOf(events);
    expect(verifyChain(events.slice(0, 4), head)).toEqual({ chain: 'customer:c1', seq: 5, reason: 'head-mismatch' });
  });

  it('detects an inserted event, in the middle or appended after the head', () => {
    const events = build(5);
    const head = headOf(events);
    // An event slipped in as seq 3, the later ones renumbered.
    const injected = { ...events[2]!, data: { injected: true } };
    const inserted = [...events.slice(0, 2), injected, ...events.slice(2).map((e) => ({ ...e, seq: e.seq + 1 }))];
    expect(verifyChain(inserted, head)).toEqual({ chain: 'customer:c1', seq: 3, reason: 'hash-mismatch' });

    const extra = build(6);
    expect(verifyChain(extra, head)?.reason).toBe('head-mismatch');
  });

  it('detects a chain rebuilt from scratch with different contents', () => {
    const events = build(3);
    const head = headOf(events);
    const rebuilt = build(3).map((e) => e);
    rebuilt[0]!.data = { operationId: 'other' };
    expect(verifyChain(rebuilt, head)).not.toBeNull();
  });

  it('hashes canonical JSON: the order of keys in data does not matter', () => {
    const body: ChainedEventBody = { chain: 'c', seq: 1, type: 't', actor: 'a', at: 'x', data: { a: 1, b: 2 } };
    expect(chainHash(GENESIS_HASH, body)).toBe(chainHash(GENESIS_HASH, { ...body, data: { b: 2, a: 1 } }));
  });
});
