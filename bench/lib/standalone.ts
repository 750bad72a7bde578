import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultPoolSize } from '../../src/config.js';
import { Client } from './http.js';
import { pgliteCommitLimit, postgresCommitLimit } from './limits.js';
import {
  createApiKey,
  givenCluster,
  serverEnv,
  startPgCluster,
  startServer,
  tempDir,
  withCpu,
  type CpuUse,
  type ServerProcess,
} from './procs.js';
import type { RunResult } from './stats.js';
import { markdownTable } from './table.js';

/**
 * One scenario run on its own (`npx tsx bench/<scenario>.ts [--seconds=3] [--postgres] [--concurrency=16]`):
 * a server on PGlite (or on PostgreSQL: `BENCH_DATABASE_URL`, else a throwaway cluster), the commit limit
 * measured in the same run, a few seconds of load, one table row and the CPU each process spent per flow.
 * `BENCH_KEEP_PROFILE=<dir>` also writes the server's CPU profile there.
 * `npm run bench` runs every scenario on both databases; this is for working on one.
 */
export function runStandalone(
  moduleUrl: string,
  s: {
    tag: string;
    scenario: string | ((flags: Record<string, boolean>) => string);
    /** Boolean options of this scenario's own (`--name`), handed to `run` as `flags`. */
    flags?: string[];
    run(ctx: {
      flags: Record<string, boolean>;
      client: Client;
      srv: ServerProcess;
      concurrency: number;
      seconds: number;
      /** Wraps the measured run: CPU use is counted over it only (not the set-up). */
      measure<T>(fn: () => Promise<T>): Promise<T>;
    }): Promise<{ result: RunResult; notes: string[] }>;
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
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      postgres: { type: 'boolean' },
      concurrency: { type: 'string', default: '16' },
      ...Object.fromEntries((s.flags ?? []).map((name) => [name, { type: 'boolean' as const }])),
    },
    strict: true,
  });
  const flags = Object.fromEntries((s.flags ?? []).map((name) => [name, (values as Record<string, unknown>)[name] === true]));
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 60)) throw new Error('--seconds is from 1 to 60');
  const concurrency = Number(values.concurrency);
  if (!(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 256)) throw new Error('--concurrency is from 1 to 256');
  const work = tempDir(s.tag);
  const stops: (() => Promise<void>)[] = [];
  try {
    let databaseUrl: string | null = null;
    let postmasterPid: number | null = null;
    if (values.postgres) {
      const given = givenCluster();
      if (given) ({ url: databaseUrl, postmasterPid } = given);
      else {
        const cluster = await startPgCluster();
        if ('skipped' in cluster) throw new Error(cluster.skipped);
        stops.push(() => cluster.stop());
        ({ url: databaseUrl, postmasterPid } = cluster);
      }
    }
    const commits = databaseUrl
      ? await postgresCommitLimit(databaseUrl, { concurrency, seconds: 2, poolSize: defaultPoolSize() })
      : await pgliteCommitLimit(path.join(work, 'limit'), { concurrency, seconds: 2 });
    const env = serverEnv({ dataDir: path.join(work, 'data'), databaseUrl });
    const apiKey = await createApiKey(env);
    // As with `npm run bench -- --profile`: BENCH_KEEP_PROFILE=<dir> keeps the server's CPU profile there.
    const profDir = process.env.BENCH_KEEP_PROFILE;
    const srv = await startServer(env, work, profDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`] : []);
    const client = new Client(srv.url, apiKey, concurrency);
    let cpu: CpuUse | null = null;
    const measure = async <T>(fn: () => Promise<T>): Promise<T> => {
      const measured = await withCpu(srv.pid, postmasterPid, fn);
      cpu = measured.cpu;
      return measured.result;
    };
    try {
      const { result: r, notes } = await s.run({ flags, client, srv, concurrency, seconds, measure });
      const perFlow = (cores: number | null | undefined) => (cores == null ? '?' : `${((cores / r.perSecond) * 1000).toFixed(2)} ms`);
      const used = cpu as CpuUse | null;
      if (used) {
        notes.push(
          `CPU per flow: server ${perFlow(used.server)}, database ${perFlow(used.database)}, load generator ${perFlow(used.client)}; machine ${used.machineBusy === null ? '?' : `${(used.machineBusy * 100).toFixed(0)} % busy`}.`,
        );
      }
      console.log(
        markdownTable([
          {
            database: databaseUrl ? 'PostgreSQL' : 'PGlite',
            scenario: typeof s.scenario === 'string' ? s.scenario : s.scenario(flags),
            flowsPerSecond: r.perSecond,
            p50: r.p50,
            p99: r.p99,
            limit: { what: commits.what, value: commits.perSecond },
            ratio: r.perSecond / commits.perSecond,
            target: '—',
            pass: null,
            notes: [
              ...notes,
              ...(r.errors ? [`${r.errors} errors, e.g. ${r.firstError}`] : []),
              ...(r.endedEarly ? [`Ended early: ${r.endedEarly}.`] : []),
            ],
          },
        ]),
      );
    } finally {
      client.close();
      await srv.stop();
    }
  } finally {
    for (const stop of stops) await stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
