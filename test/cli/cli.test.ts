import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { baseEnv, oathtool, requireOathtool, runCli, startServerProcess, tempDir } from '../support/robust-processes.js';

/**
 * The operator's `sesame` commands, run as real processes on a temporary data folder with the embedded
 * database: each command opens it and closes it again, so the next one (or a test) can open it.
 */
// Each command is a fresh process that loads the embedded database: seconds each on a busy machine.
describe('the sesame CLI on an embedded database', { timeout: 120_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  let customerId: string;
  let totpId: string;
  let secret: string;

  beforeAll(() => {
    requireOathtool();
    dir = tempDir('sesame-cli-');
    env = baseEnv({ SESAME_DATA_DIR: dir, SESAME_MODE: 'development', LOG_LEVEL: 'warn' });
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = async (args: string[], extraEnv: Record<string, string> = {}, stdin?: string) => {
    const r = await runCli(args, { ...env, ...extraEnv }, { stdin });
    return { ...r, all: `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}` };
  };

  it('migrate creates the database and applies the migrations', async () => {
    const r = await run(['migrate']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toMatch(/^Applied: 001-initial/m);
    // The lock is released when the command ends, so the next command can open the database.
    expect(fs.existsSync(path.join(dir, 'pglite.lock'))).toBe(false);
  });

  it('rp create prints the API key once', async () => {
    const r = await run(['rp', 'create', '--name', 'CLI bank']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toMatch(/^API key \(shown once\): sk_\S+$/m);
  });

  it('advisors create takes every role the advisor API checks, and refuses one it does not know', async () => {
    const r = await run(['advisors', 'create', '--name', 'Agence Opéra', '--roles', 'app_enrolment,unblock', '--channel', 'branch']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toMatch(/^Token \(shown once\): adv_\S+$/m);
    const bad = await run(['advisors', 'create', '--name', 'X', '--roles', 'superuser', '--channel', 'branch']);
    expect(bad.code).not.toBe(0);
    expect(bad.all).toContain('Unknown role "superuser"');
  });

  it('customers create registers the customer and prints it as JSON', async () => {
    const r = await run(['customers', 'create', '--ref', 'r1', '--name', 'Test']);
    expect(r.code, r.all).toBe(0);
    const customer = JSON.parse(r.stdout);
    expect(customer).toMatchObject({ ref: 'r1', displayName: 'Test' });
    customerId = customer.id;
  });

  it('totp enrol prints an otpauth:// URI, a terminal QR code, the secret and the id', async () => {
    const r = await run(['totp', 'enrol', '--customer', 'r1']);
    expect(r.code, r.all).toBe(0);
    const uri = /^URI:\s+(otpauth:\/\/totp\/\S+)$/m.exec(r.stdout)?.[1];
    expect(uri, r.all).toBeDefined();
    const parsed = new URL(uri!);
    expect(parsed.searchParams.get('algorithm')).toBe('SHA1');
    expect(parsed.searchParams.get('digits')).toBe('6');
    expect(decodeURIComponent(parsed.pathname)).toContain('r1');
    // The QR code is drawn with block characters over several lines.
    expect(r.stdout.split('\n').filter((l) => /[█▀▄]/.test(l)).length).toBeGreaterThan(10);
    secret = /^Secret:\s+([A-Z2-7]+)$/m.exec(r.stdout)?.[1] ?? '';
    totpId = /^Id:\s+(\S+)$/m.exec(r.stdout)?.[1] ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(parsed.searchParams.get('secret')).toBe(secret);
    expect(totpId).not.toBe('');
    expect(r.stdout).toContain(`sesame totp activate --customer r1 --id ${totpId}`);
  });

  it('totp enrol refuses what the HTTP API refuses: 5 digits, an unknown algorithm', async () => {
    for (const args of [
      ['--digits', '5'],
      ['--algorithm', 'MD5'],
    ]) {
      const r = await run(['totp', 'enrol', '--customer', 'r1', ...args]);
      expect(r.code).not.toBe(0);
      expect(r.all).toMatch(/must be/);
    }
  });

  it('totp activate accepts the code oathtool computes', async () => {
    // The next time step's code: the server accepts it (±1 step) for at least 60 s, however slowly the
    // command starts on a busy machine.
    const code = oathtool(['--totp', '-b', secret, '-N', `@${Math.floor(Date.now() / 1000) + 30}`]);
    expect(code).toMatch(/^\d{6}$/);
    const r = await run(['totp', 'activate', '--customer', 'r1', '--id', totpId, '--code', code]);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toContain(`TOTP ${totpId} is active.`);
  });

  it('tokens import reads a PSKC file (format from the extension, password-protected) and tokens assign gives one to a customer', async () => {
    const file = path.join(dir, 'tokens.xml');
    fs.copyFileSync(new URL('../fixtures/pskc/rfc6030-figure7.xml', import.meta.url), file);
    // A password in the arguments would show in ps: refused before anything is read, and not echoed.
    const inArgs = await run(['tokens', 'import', file, '--password', 'qwerty']);
    expect(inArgs.code, inArgs.all).toBe(1);
    expect(inArgs.stderr).toContain('--password-file');
    expect(inArgs.all).not.toContain('qwerty');
    const wrong = await run(['tokens', 'import', file, '--password-file', '-'], {}, 'qwertz\n');
    expect(wrong.code, wrong.all).toBe(1);
    expect(wrong.all).not.toContain('qwertz');
    // From stdin, as `echo` sends it: the final newline is not part of the password.
    const r = await run(['tokens', 'import', file, '--password-file', '-'], {}, 'qwerty\n');
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toContain('Imported 1 token(s): 987654321');
    const passwordFile = path.join(dir, 'pskc-password');
    fs.writeFileSync(passwordFile, 'qwerty', { mode: 0o600 });
    const again = await run(['tokens', 'import', file, '--password-file', passwordFile]);
    expect(again.code, again.all).toBe(1);
    expect(again.stderr).toContain('987654321');
    const assigned = await run(['tokens', 'assign', '987654321', 'r1']);
    expect(assigned.code, assigned.all).toBe(0);
    expect(assigned.stdout).toMatch(/^Token 987654321 assigned to r1: hotp authenticator \S+, pending\.$/m);
  });

  it('audit verify exits 0 on an untouched database', async () => {
    const r = await run(['audit', 'verify']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toMatch(/\d+ chains, \d+ events: intact\./);
  });

  it('audit verify exits 1 and names the chain once an event was deleted behind its back', async () => {
    const chain = `customer:${customerId}`;
    const store = await openStore({ databaseUrl: null, dataDir: path.join(dir, 'pglite') });
    try {
      const events = await store.db.selectFrom('audit_events').select(['seq', 'type']).where('chain', '=', chain).orderBy('seq').execute();
      expect(events.length).toBeGreaterThanOrEqual(2);
      await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`.execute(store.db);
      await store.db.deleteFrom('audit_events').where('chain', '=', chain).where('seq', '=', 1).execute();
      await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change`.execute(store.db);
    } finally {
      await store.close();
    }
    const r = await run(['audit', 'verify']);
    expect(r.code, r.all).toBe(1);
    expect(r.stderr).toContain(`TAMPERED chain ${chain}`);
    expect(r.stdout).toMatch(/1 broken\./);
  });

  it('serve refuses SESAME_MAX_ATTEMPTS=6 with a message naming the rule', async () => {
    const r = await run(['serve'], { SESAME_MAX_ATTEMPTS: '6', PORT: '0' });
    expect(r.code, r.all).not.toBe(0);
    expect(r.code, r.all).not.toBeNull();
    expect(r.stderr).toContain('SESAME_MAX_ATTEMPTS=6 is refused');
    expect(r.stderr).toMatch(/at most 5 consecutive failed attempts/);
    expect(r.stderr).toContain('RTS art. 4(3)(b)');
  });

  it('an unknown command exits 2 with the usage', async () => {
    const r = await run(['nonsense']);
    expect(r.code, r.all).toBe(2);
    expect(r.stderr).toContain('Unknown command "nonsense"');
    expect(r.stderr).toContain('Usage: sesame <command>');
  });

  it('an unknown command needs no database: it creates none, and answers the same while a server holds it', async () => {
    // A usage error says nothing about the database; opening (or creating) one first only adds ways to fail.
    const fresh = tempDir('sesame-cli-usage-');
    try {
      const r = await run(['nonsense'], { SESAME_DATA_DIR: fresh });
      expect(r.code, r.all).toBe(2);
      expect(fs.readdirSync(fresh), 'files created by `sesame nonsense`').toEqual([]);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
    const lock = path.join(dir, 'pglite.lock');
    fs.writeFileSync(lock, String(process.pid));
    try {
      const r = await run(['nonsense']);
      expect(r.code, r.all).toBe(2);
      expect(r.stderr).toContain('Usage: sesame <command>');
    } finally {
      fs.rmSync(lock, { force: true });
    }
  });

  it('serve runs the password checks on one thread per core, or on as many as UV_THREADPOOL_SIZE says', async () => {
    // Threads of the process once it answers: libuv's pool is the only part that depends on the setting.
    const started = async (extra: Record<string, string>) => {
      const { UV_THREADPOOL_SIZE: _, ...inherited } = env;
      const data = tempDir('sesame-cli-pool-');
      const server = await startServerProcess({ ...inherited, SESAME_DATA_DIR: data, SESAME_DEMO: 'false', ...extra });
      try {
        return { banner: server.output(), threads: fs.readdirSync(`/proc/${server.child.pid}/task`).length };
      } finally {
        await server.stop();
        fs.rmSync(data, { recursive: true, force: true });
      }
    };
    const cores = os.availableParallelism();
    const [byDefault, more] = await Promise.all([started({}), started({ UV_THREADPOOL_SIZE: String(cores + 3) })]);
    expect(byDefault.banner).toContain(`password checks on ${cores} threads`);
    expect(more.banner).toContain(`password checks on ${cores + 3} threads`);
    expect(more.threads - byDefault.threads).toBe(3);
  });
});
