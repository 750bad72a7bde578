/**
 * The floor of the stack: what this machine gives for the least an SCA flow must do, through the same
 * libraries as the server (Fastify, `pg` with named prepared statements and a pool of the server's size, an ES256 JWS
 * signed with jose), without Sésame's logic. One POST reads a row, updates it (guarded like a success)
 * and signs a small token, over HTTP on 127.0.0.1 at concurrency 32, the server in its own process.
 * Beside scenario (a) it says how much of the gap to a target is the stack and how much is Sésame.
 *
 *   npx tsx bench/stack-floor.ts [--seconds=10]      # BENCH_DATABASE_URL, else a throwaway cluster
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultPoolSize } from '../src/config.js';
import { Client } from './lib/http.js';
import { closedLoop } from './lib/load.js';
import { givenCluster, startPgCluster, withCpu } from './lib/procs.js';

const CONCURRENCY = 32;
const ROWS = 1000;

/** The server half, in a child process: `process.send` its port once listening. */
async function serve(databaseUrl: string): Promise<void> {
  const [{ default: Fastify }, { default: pg }, { generateKeyPair, SignJWT }] = await Promise.all([
    import('fastify'),
    import('pg'),
    import('jose'),
  ]);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: defaultPoolSize() });
  await pool.query('CREATE TABLE IF NOT EXISTS stack_floor (id integer PRIMARY KEY, n integer NOT NULL, data jsonb NOT NULL)');
  await pool.query(`INSERT INTO stack_floor SELECT g, 0, '{"amount": 1250}' FROM generate_series(1, ${ROWS}) g ON CONFLICT DO NOTHING`);
  const { privateKey } = await generateKeyPair('ES256');
  const app = Fastify({ logger: false });
  app.post<{ Params: { id: string }; Body: { code: string } }>(
    '/flow/:id',
    { schema: { body: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'], additionalProperties: false } } },
    async (req) => {
      const id = (Number(req.params.id) % ROWS) + 1;
      const read = await pool.query({ name: 'read', text: 'SELECT id, n, data FROM stack_floor WHERE id = $1', values: [id] });
      const n = read.rows[0].n as number;
      const write = await pool.query({
        name: 'write',
        text: 'UPDATE stack_floor SET n = n + 1 WHERE id = $1 AND n = $2 RETURNING n',
        values: [id, n],
      });
      // A guard that trips is a failed flow, as in the server (it would take the locking path there).
      if (write.rowCount !== 1) throw new Error('the guarded write found the row changed');
      const token = await new SignJWT({ op: id, n }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().sign(privateKey);
      return { status: 'authorised', token };
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!((app.server.address() as { port: number }).port);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } }, strict: true });
  const seconds = Number(values.seconds);
  if (!(seconds >= 1 && seconds <= 120)) throw new Error('--seconds is from 1 to 120');
  const given = givenCluster();
  let url = given?.url ?? null;
  let postmasterPid = given?.postmasterPid ?? null;
  let stopCluster = async () => {};
  if (!url) {
    const cluster = await startPgCluster();
    if ('skipped' in cluster) throw new Error(cluster.skipped);
    ({ url, postmasterPid } = cluster);
    stopCluster = cluster.stop;
  }
  const child = fork(fileURLToPath(import.meta.url), ['--serve', url], { execArgv: ['--import', 'tsx'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve(m as number));
      child.once('exit', (code) => reject(new Error(`the floor server exited with ${code}`)));
    });
    const client = new Client(`http://127.0.0.1:${port}`, 'sk_floor', CONCURRENCY);
    let next = 0;
    const flow = () => async () => {
      await client.request('POST', `/flow/${next++}`, { code: '123456' }, 200);
      return true;
    };
    await closedLoop(CONCURRENCY, 2, flow); // warm-up
    const { result, cpu } = await withCpu(child.pid!, postmasterPid, () => closedLoop(CONCURRENCY, seconds, flow));
    client.close();
    const f = (v: number | null) => (v === null ? '?' : v.toFixed(2));
    console.log(
      `stack floor (Fastify + 2 prepared statements through pg + ES256 JWS), c=${CONCURRENCY}: ${result.perSecond.toFixed(0)}/s, ` +
        `p50 ${result.p50?.toFixed(1)} ms, p99 ${result.p99?.toFixed(1)} ms; CPU: server ${f(cpu.server)}, PostgreSQL ${f(cpu.database)}, ` +
        `load generator ${f(cpu.client)} cores, machine ${cpu.machineBusy === null ? '?' : `${(cpu.machineBusy * 100).toFixed(0)} %`} busy` +
        (result.errors ? `; ${result.errors} errors, e.g. ${result.firstError}` : ''),
    );
  } finally {
    child.kill();
    // A database given by BENCH_DATABASE_URL gets its table back out; a throwaway cluster just goes.
    if (process.env.BENCH_DATABASE_URL) {
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('DROP TABLE IF EXISTS stack_floor').finally(() => c.end());
    }
    await stopCluster();
  }
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3]!).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
