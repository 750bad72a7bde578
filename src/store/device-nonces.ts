import { Unauthorized } from '../core/errors.js';
import type { Db } from './db.js';

/**
 * Nonces of signed device requests that write: kept until the request's time window is over, so that a
 * replay fails on any server process. A request that carries an SCA proof keeps its nonce in the same
 * statement or transaction as the attempt's outcome.
 */
export interface DeviceNonce {
  /** The installation and its key. */
  who: string;
  nonce: string;
  expiresAt: Date;
}

export const replayed = () => new Unauthorized('This request was already received (replay).', 'ERR_DEVICE_REPLAY');

/** Keeps a write's nonce (in the caller's transaction, if any); a nonce already kept is a replay. */
export async function rememberNonce(db: Db, n: DeviceNonce): Promise<void> {
  const inserted = await db
    .insertInto('device_request_nonces')
    .values({ authenticator_id: n.who, nonce: n.nonce, expires_at: n.expiresAt })
    .onConflict((oc) => oc.doNothing())
    .returning('nonce')
    .executeTakeFirst();
  if (!inserted) throw replayed();
}

/** Expired nonces go, about once in a hundred writes. */
export async function purgeNoncesNowAndThen(db: Db, now: Date): Promise<void> {
  if (Math.random() < 0.01) await db.deleteFrom('device_request_nonces').where('expires_at', '<', now).execute();
}
