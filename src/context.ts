import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import type { Clock } from './core/clock.js';
import { defaultScaPolicy, type ScaPolicy } from './core/policy.js';
import type { LockoutPolicy } from './core/lockout.js';
import { Sealer } from './crypto/seal.js';
import { SigningKeys } from './crypto/signing-keys.js';
import type { Db, StoreHandle } from './store/db.js';
import type { MethodDeps } from './methods/types.js';
import { createDeliveryProvider, DevOutbox, type Channels, type VoiceSegment } from './channels/index.js';
import { confirmKeypad } from './journeys/otp.js';
import { vapidKeys, webPushSender, type PushSender } from './channels/web-push.js';
import { DeviceWakeups } from './events/device-wakeups.js';
import { Metrics } from './metrics.js';

/**
 * Everything a journey needs, built once at start: configuration, clock, store, key material and
 * policies. Journeys take this object; nothing reads globals.
 */
export interface Services extends MethodDeps {
  store: StoreHandle;
  db: Db;
  signingKeys: SigningKeys;
  scaPolicy: ScaPolicy;
  lockoutPolicy: LockoutPolicy;
  /** SMS, voice calls and email; in development, the dev outbox behind the phone & inbox page. */
  channels: Channels;
  /** Wakes the message dispatcher when a message was just queued (set by the dispatcher loop). */
  messagesQueued: () => void;
  /** Web Push to the app installations (null when no VAPID subject is configured). */
  push: PushSender | null;
  /** Wakes app installations long-polling this process. */
  deviceWakeups: DeviceWakeups;
  /** Counters and timings for `GET /metrics`. */
  metrics: Metrics;
}

export async function createServices(config: Config, clock: Clock, store: StoreHandle, dataDir: string | null): Promise<Services> {
  const sealer = new Sealer(config.keks ?? devKeks(dataDir));
  const hashKey = await serverSecret(store.db, sealer, 'hash-key');
  const signingKeys = new SigningKeys(store.db, sealer, clock);
  await signingKeys.ensureLoaded();
  const services: Services = {
    config,
    clock,
    store,
    db: store.db,
    sealer,
    hashKey,
    signingKeys,
    scaPolicy: defaultScaPolicy({}, config.sessionElementReuse),
    lockoutPolicy: config.lockout,
    // Keys typed during a simulated keypad call are verified like a provider's gather callback.
    channels: channelsFor(config, clock, (callId, digits) => confirmKeypad(services, callId, digits)),
    messagesQueued: () => undefined,
    push: config.app.pushSubject ? webPushSender(await vapidKeys(store.db, sealer), config.app.pushSubject, (m) => console.warn(m)) : null,
    deviceWakeups: new DeviceWakeups(),
    metrics: new Metrics(store.db),
  };
  return services;
}

function channelsFor(config: Config, clock: Clock, onDtmf: (callId: string, digits: string) => Promise<VoiceSegment[]>): Channels {
  const c = config.channels;
  return createDeliveryProvider({
    sms: c.sms,
    voice: c.voice,
    email: c.email,
    production: config.mode === 'production',
    ...(c.twilio
      ? {
          twilio: {
            accountSid: c.twilio.accountSid,
            authToken: c.twilio.authToken,
            baseUrl: c.twilio.baseUrl,
            ...(c.twilio.from ? { from: c.twilio.from } : {}),
            ...(c.twilio.messagingServiceSid ? { messagingServiceSid: c.twilio.messagingServiceSid } : {}),
            smsStatusCallbackUrl: `${config.publicUrl}/v1/channels/twilio/status`,
            voiceStatusCallbackUrl: `${config.publicUrl}/v1/channels/twilio/status`,
          },
        }
      : {}),
    ...(c.smtp
      ? {
          smtp: {
            host: c.smtp.host,
            ...(c.smtp.port ? { port: c.smtp.port } : {}),
            secure: c.smtp.secure,
            ...(c.smtp.user ? { auth: { user: c.smtp.user, pass: c.smtp.pass } } : {}),
            from: c.smtp.from,
          },
        }
      : {}),
    ...(config.mode === 'development' ? { devOutbox: new DevOutbox({ clock, onDtmf }) } : {}),
  });
}

/**
 * Development only: a key-encryption key kept beside the embedded database (mode 0600), or an
 * ephemeral one for an in-memory database. Production refuses to start without SESAME_KEKS.
 */
function devKeks(dataDir: string | null): { id: string; key: Buffer }[] {
  if (!dataDir) return [{ id: 'dev', key: randomBytes(32) }];
  const file = path.join(dataDir, 'dev-kek');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return [{ id: 'dev', key: Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64') }];
}

/** A random server secret, created once (race-safe across processes) and sealed with the KEK. */
async function serverSecret(db: Db, sealer: Sealer, name: string): Promise<Buffer> {
  await db
    .insertInto('server_secrets')
    .values({ name, sealed: sealer.seal(randomBytes(32), `server-secret:${name}`) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('server_secrets').select('sealed').where('name', '=', name).executeTakeFirstOrThrow();
  return sealer.open(row.sealed, `server-secret:${name}`);
}
