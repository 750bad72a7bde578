import webpush from 'web-push';
import type { Sealer } from '../crypto/seal.js';
import type { Db } from '../store/db.js';

/**
 * Web Push (RFC 8030 + VAPID, RFC 8292) to the app installations, with the `web-push` library. The push
 * only wakes the app ("an operation awaits your decision"); the app then fetches the operation over its
 * signed API, so nothing sensitive transits through the push service. Push is unreliable by nature:
 * the app also long-polls, and a failed push is logged, never retried.
 */
export interface PushSender {
  readonly publicKey: string;
  send(subscription: { endpoint: string; keys: { p256dh: string; auth: string } }, payload: Record<string, unknown>): Promise<boolean>;
}

const SECRET = 'vapid-keys';

/** The server's VAPID key pair, created on first use and kept sealed like every server secret. */
export async function vapidKeys(db: Db, sealer: Sealer): Promise<{ publicKey: string; privateKey: string }> {
  const fresh = webpush.generateVAPIDKeys();
  await db
    .insertInto('server_secrets')
    .values({ name: SECRET, sealed: sealer.seal(JSON.stringify(fresh), `server-secret:${SECRET}`) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('server_secrets').select('sealed').where('name', '=', SECRET).executeTakeFirstOrThrow();
  return JSON.parse(sealer.open(row.sealed, `server-secret:${SECRET}`).toString('utf8'));
}

export function webPushSender(keys: { publicKey: string; privateKey: string }, subject: string, log: (msg: string) => void): PushSender {
  return {
    publicKey: keys.publicKey,
    async send(subscription, payload) {
      try {
        await webpush.sendNotification(subscription, JSON.stringify(payload), {
          vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
          TTL: 300,
          urgency: 'high',
          timeout: 5000,
        });
        return true;
      } catch (err) {
        // The endpoint is the push service's URL: no secret; the error says what the service answered.
        log(`web push to ${new URL(subscription.endpoint).host} failed: ${(err as Error).message}`);
        return false;
      }
    },
  };
}
