import { NotFound } from '../core/errors.js';
import type { LockoutState } from '../core/lockout.js';
import type { Db } from './db.js';
import type { SecurityStateRow } from './schema.js';

/** The customer's security row: consecutive failures and blocks, locked by every security-relevant change. */
export async function lockSecurityState(tx: Db, customerId: string): Promise<SecurityStateRow> {
  const row = await tx.selectFrom('security_states').selectAll().where('customer_id', '=', customerId).forUpdate().executeTakeFirst();
  // Every customer's row is written with the customer: none means no such customer.
  if (!row) throw new NotFound('Customer');
  return row;
}

export function toLockout(row: SecurityStateRow): LockoutState {
  return {
    failedCount: row.failed_count,
    blockLevel: row.block_level,
    blockedUntil: row.blocked_until ? new Date(row.blocked_until) : null,
    permanentlyBlocked: row.permanently_blocked,
  };
}

export async function saveLockout(tx: Db, customerId: string, state: LockoutState, now: Date): Promise<void> {
  await tx
    .updateTable('security_states')
    .set({
      failed_count: state.failedCount,
      block_level: state.blockLevel,
      blocked_until: state.blockedUntil,
      permanently_blocked: state.permanentlyBlocked,
      updated_at: now,
    })
    .where('customer_id', '=', customerId)
    .execute();
}
