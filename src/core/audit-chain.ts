import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * Audit events are hash-chained per customer (or per named chain), so that a changed, inserted or
 * deleted row is detectable, while the hot path only waits on the lock it already holds for that
 * customer. hash(n) = SHA-256(hash(n-1) ‖ canonical JSON of event n).
 */
export interface ChainedEventBody {
  chain: string;
  seq: number;
  type: string;
  actor: string;
  at: string;
  data: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);

export function chainHash(prevHash: string, body: ChainedEventBody): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalize(body) ?? '')
    .digest('hex');
}

export interface ChainBreak {
  chain: string;
  seq: number;
  reason: 'hash-mismatch' | 'gap' | 'head-mismatch';
}

/** Re-computes a chain in order of seq and reports the first break. */
export function verifyChain(
  events: readonly (ChainedEventBody & { prevHash: string; hash: string })[],
  head?: { seq: number; hash: string },
): ChainBreak | null {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const e of events) {
    if (e.seq !== expectedSeq) return { chain: e.chain, seq: expectedSeq, reason: 'gap' };
    const { prevHash, hash, ...body } = e;
    if (prevHash !== prev || chainHash(prev, body) !== hash) return { chain: e.chain, seq: e.seq, reason: 'hash-mismatch' };
    prev = hash;
    expectedSeq++;
  }
  if (head && (head.seq !== expectedSeq - 1 || head.hash !== prev)) {
    return { chain: events[0]?.chain ?? '?', seq: head.seq, reason: 'head-mismatch' };
  }
  return null;
}
