import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from './http.js';
import { pgliteCommitLimit } from './limits.js';
import { createApiKey, serverEnv, startServer, tempDir, type ServerProcess } from './procs.js';
import type { RunResult } from './stats.js';
import { markdownTable } from './table.js';

/**
 * One scenario run on its own (`npx tsx bench/<scenario>.ts [--seconds=3]`): a PGlite server, the commit
 * limit measured in the same run, a few seconds of load, one table row. `npm run bench` runs every
 * scenario on both databases; this is for working on one.
 */
export function runStandalone(
  moduleUrl: string,
  s: {
    tag: string;
    scenario: string;
    run(ctx: { client: Client; srv: ServerProcess; concurrency: number; seconds: number }): Promise<{ result: RunResult; notes: string[] }>;
  },
): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main(s).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}

async function main(s: Parameters<typeof runStandalone>[1]): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' } }, strict: true });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds is from 1 to 60');
  const concurrency = 16;
  const work = tempDir(s.tag);
  try {
    const commits = await pgliteCommitLimit(path.join(work, 'limit'), { concurrency, seconds: 2 });
    const env = serverEnv({ dataDir: path.join(work, 'data'), databaseUrl: null });
    const apiKey = await createApiKey(env);
    const srv = await startServer(env, work);
    const client = new Client(srv.url, apiKey, concurrency);
    try {
      const { result: r, notes } = await s.run({ client, srv, concurrency, seconds });
      console.log(
        markdownTable([
          {
            database: 'PGlite',
            scenario: s.scenario,
            flowsPerSecond: r.perSecond,
            p50: r.p50,
            p99: r.p99,
            limit: { what: commits.what, value: commits.perSecond },
            ratio: r.perSecond / commits.perSecond,
            target: '—',
            pass: null,
            notes: [...notes, ...(r.errors ? [`${r.errors} errors, e.g. ${r.firstError}`] : [])],
          },
        ]),
      );
    } finally {
      client.close();
      await srv.stop();
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
