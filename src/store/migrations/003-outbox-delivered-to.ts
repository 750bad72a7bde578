import { sql, type Kysely } from 'kysely';

/** A broadcast event is delivered to each bank separately: remember which ones have it already. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE outbox_events ADD COLUMN delivered_to text[] NOT NULL DEFAULT '{}'`.execute(db);
}
