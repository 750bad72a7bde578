import { appendAudit, customerChain } from './audit.js';
import type { Db } from './db.js';
import { enqueueEvent } from './outbox.js';

/**
 * What every revocation of an authenticator leaves, whichever path revoked it: `authenticator.revoked` on
 * the customer's audit chain, and `authenticator.removed` for the bank's systems when the authenticator
 * was in use (a pending enrolment never was). `reason` says why when the customer did not ask for it.
 */
export async function recordRevoked(
  tx: Db,
  now: Date,
  actor: string,
  a: { id: string; customerId: string; kind: string; category: string; wasActive: boolean },
  reason?: string,
): Promise<void> {
  const data = { customerId: a.customerId, authenticatorId: a.id, kind: a.kind, category: a.category, ...(reason ? { reason } : {}) };
  await appendAudit(tx, customerChain(a.customerId), now, { type: 'authenticator.revoked', actor, data });
  if (a.wasActive) await enqueueEvent(tx, now, { type: 'authenticator.removed', rpId: null, data });
}
