import pg from 'pg';

/**
 * Fails the run once, with a plain message, when TEST_DATABASE_URL names a server that cannot be
 * reached or may not create databases; otherwise every PostgreSQL test would fail on its own with a
 * bare ECONNREFUSED.
 */
export default async function checkTestDatabase(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>(
      'SELECT rolcreatedb OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user',
    );
    if (!rows[0]?.ok) throw new Error('its user may not CREATE DATABASE (each test gets its own database)');
  } catch (err) {
    throw new Error(`TEST_DATABASE_URL=${redact(url)} cannot be used for the tests: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
