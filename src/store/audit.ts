import { chainHash, GENESIS_HASH, verifyChain, type ChainBreak } from '../core/audit-chain.js';
import type { Db } from './db.js';

export interface AuditEntry {
  type: string;
  /** Who acted: `customer:<id>`, `rp:<id>`, `advisor:<id>`, `system`. */
  actor: string;
  data?: Record<string, unknown>;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Appends an event to a hash chain, inside the caller's transaction, and returns the new head. The
 * chain head row is locked (`FOR UPDATE`) so appends to one chain are serialised; chains are per
 * customer, so customers never wait on each other. A caller that already locked the head passes it.
 * Never put a secret, code, PIN or token in `data`.
 */
export async function appendAudit(tx: Db, chain: string, at: Date, entry: AuditEntry, lockedHead?: ChainHead | null): Promise<ChainHead> {
  const head =
    lockedHead !== undefined
      ? lockedHead
      : ((await tx.selectFrom('audit_heads').select(['seq', 'hash']).where('chain', '=', chain).forUpdate().executeTakeFirst()) ?? null);
  const event = chainEvent(chain, head, at, entry);
  // One statement: the event and the new head.
  await tx
    .with('event', (db) => db.insertInto('audit_events').values(event))
    .insertInto('audit_heads')
    .values({ chain, seq: event.seq, hash: event.hash })
    .onConflict((oc) => oc.column('chain').doUpdateSet({ seq: event.seq, hash: event.hash }))
    .execute();
  return { seq: event.seq, hash: event.hash };
}

/** The row that follows `head` on a chain (pure): for callers that write it in a statement of their own. */
export function chainEvent(chain: string, head: ChainHead | null, at: Date, entry: AuditEntry) {
  const seq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS_HASH;
  const body = { chain, seq, type: entry.type, actor: entry.actor, at: at.toISOString(), data: entry.data ?? {} };
  return {
    chain,
    seq,
    type: body.type,
    actor: body.actor,
    at,
    data: JSON.stringify(body.data),
    prev_hash: prevHash,
    hash: chainHash(prevHash, body),
  };
}

export const customerChain = (customerId: string) => `customer:${customerId}`;

export async function readChain(db: Db, chain: string, limit = 1000, beforeSeq?: number) {
  let q = db.selectFrom('audit_events').selectAll().where('chain', '=', chain);
  if (beforeSeq !== undefined) q = q.where('seq', '<', beforeSeq);
  return q.orderBy('seq', 'desc').limit(limit).execute();
}

/** Re-computes every chain against its head: detects a changed, inserted or deleted event. */
export async function verifyAllChains(db: Db): Promise<{ chains: number; events: number; breaks: ChainBreak[] }> {
  const heads = await db.selectFrom('audit_heads').selectAll().execute();
  const breaks: ChainBreak[] = [];
  let events = 0;
  const chainsWithEvents = await db.selectFrom('audit_events').select('chain').distinct().execute();
  const known = new Set(heads.map((h) => h.chain));
  for (const { chain } of chainsWithEvents) if (!known.has(chain)) breaks.push({ chain, seq: 0, reason: 'head-mismatch' });
  for (const head of heads) {
    const rows = await db.selectFrom('audit_events').selectAll().where('chain', '=', head.chain).orderBy('seq').execute();
    events += rows.length;
    const brk = verifyChain(
      rows.map((r) => ({
        chain: r.chain,
        seq: r.seq,
        type: r.type,
        actor: r.actor,
        at: new Date(r.at).toISOString(),
        data: r.data as Record<string, unknown>,
        prevHash: r.prev_hash,
        hash: r.hash,
      })),
      { seq: head.seq, hash: head.hash },
    );
    if (brk) breaks.push({ ...brk, chain: head.chain });
  }
  return { chains: heads.length, events, breaks };
}
