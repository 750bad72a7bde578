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
}

export async function createServices(config: Config, clock: Clock, store: StoreHandle, dataDir: string | null): Promise<Services> {
  const sealer = new Sealer(config.keks ?? devKeks(dataDir));
  const hashKey = await serverSecret(store.db, sealer, 'hash-key');
  const signingKeys = new SigningKeys(store.db, sealer, clock);
  await signingKeys.ensureLoaded();
  return {
    config,
    clock,
    store,
    db: store.db,
    sealer,
    hashKey,
    signingKeys,
    scaPolicy: defaultScaPolicy({}, config.sessionElementReuse),
    lockoutPolicy: config.lockout,
  };
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
