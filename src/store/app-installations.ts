import type { Db } from './db.js';

/**
 * What a revoked app installation leaves behind goes with it: its push subscription (nothing is sent to
 * that phone any more) and the requests still waiting for its answer (expired: no one can answer them).
 * Its secrets go by themselves (the revoking write clears them, migration 011).
 */
export async function retireAppInstallations(tx: Db, authenticatorIds: string[]): Promise<void> {
  if (!authenticatorIds.length) return;
  await tx.deleteFrom('app_push_subscriptions').where('authenticator_id', 'in', authenticatorIds).execute();
  await tx
    .updateTable('app_approvals')
    .set({ status: 'expired' })
    .where('authenticator_id', 'in', authenticatorIds)
    .where('status', 'in', ['pending', 'pin_confirmation'])
    .execute();
}
