import type { Kysely, Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { Database } from '../store/schema.js';

/**
 * What the two outboxes (webhook events, messages) share: claiming due rows across processes, and the
 * loop that runs dispatch passes.
 */
interface Claimable {
  id: string;
  status: string;
  next_attempt_at: Date;
}

const LEASE_MS = 60_000;
/** Rows one pass claims; a pass that claimed this many is followed at once by another (a backlog drains). */
export const DISPATCH_BATCH = 20;

/**
 * Claims up to a batch of due rows with `FOR UPDATE SKIP LOCKED` and a lease: several processes share
 * the work, and a row whose sender died is retried when the lease ends.
 */
export async function claimDue<T extends 'outbox_events' | 'messages'>(db: Db, table: T, now: Date): Promise<Selectable<Database[T]>[]> {
  // Both tables have these columns; Kysely cannot type one query over "either table", so it sees one.
  const name = table as unknown as 'outbox';
  return db.transaction().execute(async (tx) => {
    const q = tx as unknown as Kysely<{ outbox: Claimable }>;
    const due = await q
      .selectFrom(name)
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(DISPATCH_BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length) {
      await q
        .updateTable(name)
        .set({ next_attempt_at: new Date(now.getTime() + LEASE_MS) })
        .where(
          'id',
          'in',
          due.map((d) => d.id),
        )
        .execute();
    }
    return due as unknown as Selectable<Database[T]>[];
  });
}

/**
 * Sends a claimed batch's rows together. A row that throws (a payload that no longer opens, a write that
 * failed) does not stop the others: it keeps its lease and is tried again when the lease ends. Logs the
 * row's id and the error's class only, never its content. Returns how many rows threw.
 */
export async function sendTogether<T extends { id: string }>(rows: T[], what: string, send: (row: T) => Promise<void>): Promise<number> {
  const settled = await Promise.allSettled(rows.map(send));
  let errored = 0;
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    errored++;
    const kind = r.reason instanceof Error ? r.reason.name : 'error';
    console.warn(`${what} ${rows[i]!.id} not sent (${kind}): tried again when its lease ends`);
  });
  return errored;
}

/**
 * Runs `pass` every `intervalMs`, and at once on `kick()` (a kick during a pass runs one more after it).
 * `pass` returns how many rows it claimed: after a full batch the next pass starts at once, so a backlog
 * (a burst of enrolments, a provider back from an outage) drains as fast as it can be sent, not 20 a second.
 */
export function startDispatchLoop(pass: () => Promise<number>, intervalMs = 1000): { stop(): Promise<void>; kick(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    running = pass()
      .then((claimed) => {
        if (claimed >= DISPATCH_BATCH) again = true;
      })
      .catch(() => undefined)
      .finally(() => {
        running = null;
        if (stopped) return;
        if (again) {
          again = false;
          run();
        } else timer = setTimeout(run, intervalMs);
      });
  };
  timer = setTimeout(run, intervalMs);
  return {
    kick: run,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
