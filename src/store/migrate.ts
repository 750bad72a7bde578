import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as m001 from './migrations/001-initial.js';
import * as m002 from './migrations/002-operation-session.js';
import * as m003 from './migrations/003-outbox-delivered-to.js';
import * as m004 from './migrations/004-guard.js';
import * as m005 from './migrations/005-channels.js';
import * as m006 from './migrations/006-hardware-tokens.js';
import * as m007 from './migrations/007-app.js';
import * as m008 from './migrations/008-webauthn.js';
import * as m009 from './migrations/009-codes-on-operations.js';
import * as m010 from './migrations/010-passkey-login.js';
import * as m011 from './migrations/011-destroy-revoked-secrets.js';
import * as m012 from './migrations/012-erase-sent-messages.js';

/** Migrations are listed here, in order, so that a bundled server needs no folder scan at run time. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': m001,
  '002-operation-session': m002,
  '003-outbox-delivered-to': m003,
  '004-guard': m004,
  '005-channels': m005,
  '006-hardware-tokens': m006,
  '007-app': m007,
  '008-webauthn': m008,
  '009-codes-on-operations': m009,
  '010-passkey-login': m010,
  '011-destroy-revoked-secrets': m011,
  '012-erase-sent-messages': m012,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Applies pending migrations; Kysely takes a lock so several processes starting at once are safe. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Applies the migrations up to `name` included: an upgrade is tested from the schema before it. */
export async function migrateUpTo(db: Kysely<any>, name: string): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateTo(name);
  if (error) throw error;
}
