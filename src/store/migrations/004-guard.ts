import { sql, type Kysely } from 'kysely';

/**
 * `sesame_guard(ok)` raises SQLSTATE SE409 when `ok` is false. A statement that writes several tables
 * (an SCA success) ends with it over its guards, so that a guard found false rolls the whole statement
 * back: all of the outcome is written, or none of it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION sesame_guard(ok boolean) RETURNS boolean LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT ok THEN
        RAISE EXCEPTION 'the state changed since it was read' USING ERRCODE = 'SE409';
      END IF;
      RETURN true;
    END
    $$`.execute(db);
}
