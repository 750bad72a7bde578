import { sql, type Kysely } from 'kysely';

/** An operation may be started inside a login session, whose knowledge element it may then reuse. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE operations ADD COLUMN session_id text`.execute(db);
}
