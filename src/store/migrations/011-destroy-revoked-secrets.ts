import { sql, type Kysely } from 'kysely';

/**
 * Destruction of credentials (Delegated Regulation 2018/389, art. 27): a revoked authenticator keeps its
 * record (what it was, when it was bound and revoked: the audit refers to it) but not its secrets. Whatever
 * path revokes it — a transfer of the app, a closure, a removal, an abandoned activation — the database
 * drops the sealed secret and the password digest in the same write; rows revoked earlier lose them now.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION authenticators_destroy_secrets() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.secret_sealed := NULL;
      NEW.secret_digest := NULL;
      RETURN NEW;
    END $$;
    CREATE TRIGGER authenticators_destroy_secrets_on_revoke BEFORE UPDATE ON authenticators
      FOR EACH ROW WHEN (NEW.status = 'revoked') EXECUTE FUNCTION authenticators_destroy_secrets();
    UPDATE authenticators SET secret_sealed = NULL, secret_digest = NULL
      WHERE status = 'revoked' AND (secret_sealed IS NOT NULL OR secret_digest IS NOT NULL)`.execute(db);
}
