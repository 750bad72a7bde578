import { sql, type Kysely } from 'kysely';

/**
 * An authentication code's single use is kept on its operation (`code_consumed_at`, beside `auth_code_id`)
 * rather than in a row of its own: an operation is authorised once, so it has at most one code, and a
 * success no longer inserts a row (and checks its foreign key) on every SCA. Consumption is one conditional
 * update of the operation by its primary key. Codes already issued keep their state.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE operations ADD COLUMN code_consumed_at timestamptz;
    UPDATE operations o SET code_consumed_at = c.consumed_at
      FROM authentication_codes c
     WHERE c.id = o.auth_code_id AND c.consumed_at IS NOT NULL;
    DROP TABLE authentication_codes`.execute(db);
}
