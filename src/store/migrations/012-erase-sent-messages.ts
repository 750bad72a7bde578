import { sql, type Kysely } from 'kysely';

/**
 * A message's payload (an SMS or a call with its code, a notice) is needed until it has gone out and its
 * code has expired; after that only the record is kept (to whom, why, when, what became of it: the
 * limits per number count them). The payload may then be erased: NULL. The partial index finds the
 * payloads still to erase, and empties as they go.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE messages ALTER COLUMN payload_sealed DROP NOT NULL;
    CREATE INDEX messages_payload_to_erase ON messages (created_at) WHERE payload_sealed IS NOT NULL`.execute(db);
}
