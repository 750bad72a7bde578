/**
 * `npm run bench`: Sésame over HTTP on 127.0.0.1, on embedded PGlite and on PostgreSQL.
 *
 *   (a) TOTP verification of an existing payment operation, up to the authentication code
 *       (closed loop at concurrency 32, then open loop at half that peak for p99)
 *   (b) the full flow: create the payment operation → TOTP → consume the authentication code
 *   (c) password verification (a login: password + TOTP)
 *   (d) SMS-OTP verification of an existing payment operation (code sent and read back beforehand)
 *   (e) OCRA verification of an existing payment operation (challenge fetched beforehand)
 *   (f) WebAuthn assertions per second: a passkey approves an existing payment operation (bench/webauthn.ts)
 *   (g) app approvals per second: the device SDK approves payment operations sent to the app (bench/app-approvals.ts)
 *
 * Each figure stands beside a limit measured in the same run on the same machine (single-row
 * `UPDATE … RETURNING` commits/s through the server's driver; raw argon2id verifies/s on every core)
 * and the ratio: the machine is shared and noisy, ratios are what we compare over time.
 *
 *   npm run bench [-- --quick] [--only=pglite|postgres] [--duration=20] [--profile]
 *
 * --quick: 3 s runs (smoke test). --profile: CPU-profile the server during (a) and print the top
 * self-time functions. PostgreSQL: BENCH_DATABASE_URL, else a throwaway cluster (scripts/pg-cluster.sh).
 * Prints a Markdown table and writes bench/results.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultPoolSize } from '../src/config.js';
import { availableUses, setUpCustomers, type SetupReport } from './lib/customers.js';
import { Client } from './lib/http.js';
import { argon2Limit, bracketed, pgliteCommitLimit, postgresCommitLimit, SERVER_ARGON2, type Limit } from './lib/limits.js';
import {
  createApiKey,
  givenCluster,
  ROOT,
  serverEnv,
  startPgCluster,
  startServer,
  tail,
  tempDir,
  sleep,
  withCpu,
  type CpuUse,
  type ServerProcess,
} from './lib/procs.js';
import { summariseProfile, type ProfileSummary } from './lib/profile.js';
import { PERIOD } from './lib/totp.js';
import {
  createOperations,
  loginOperationsFor,
  newQueues,
  queued,
  runFullFlow,
  runOcra,
  runPassword,
  runSms,
  runTotpClosed,
  runTotpOpen,
} from './lib/scenarios.js';
import { OCRA_SUITE, prepareOcra, prepareSms, setUpOcraCustomers, setUpSmsCustomers, SMS_PER_CUSTOMER } from './lib/sms-ocra.js';
import type { RunResult } from './lib/stats.js';
import { markdownTable, type Row } from './lib/table.js';
import { prepareApprovals, runApprovals, setUpAppDevices } from './app-approvals.js';
import { ecdsaVerifyLimit, prepareWebAuthn, runWebAuthn, setUpWebAuthnCustomers } from './webauthn.js';

type Db = 'pglite' | 'postgres';

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    duration: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
  strict: true,
});
if (flags.only && flags.only !== 'pglite' && flags.only !== 'postgres') {
  console.error('bench: --only is pglite or postgres');
  process.exit(2);
}
const QUICK = flags.quick!;
const DURATION = flags.duration ? Number(flags.duration) : QUICK ? 3 : 20;
if (!(DURATION > 0 && DURATION <= 120)) {
  console.error('bench: --duration is seconds, from 1 to 120');
  process.exit(2);
}
const CONCURRENCY = 32;
/** The server's pg.Pool (SESAME_DATABASE_POOL_SIZE is not set for it). */
const SERVER_POOL_SIZE = defaultPoolSize();
const LIMIT_SECONDS = QUICK ? 2 : 5;
const TARGETS = {
  totp: { postgres: 1500, pglite: 1000 } as Record<Db, number>,
  fullFlow: { postgres: 500 } as Partial<Record<Db, number>>,
  passwordRatio: 0.9,
  halfPeakP99Ms: 50,
  appApprovals: { postgres: 1000 } as Partial<Record<Db, number>>,
};

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const describe = (r: RunResult) =>
  `${fmt(r.perSecond, 1)}/s, p50 ${r.p50?.toFixed(1)} ms, p99 ${r.p99?.toFixed(1)} ms (${r.flows} flows in ${r.seconds.toFixed(1)} s${r.errors ? `, ${r.errors} errors` : ''})`;

/** Cleanups to run however we leave (error, Ctrl-C). */
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length) await cleanups.pop()!().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`));
}
// The whole run stops by itself, whatever happens.
const WATCHDOG_MS = (540 + DURATION * 36) * 1000;
setTimeout(() => {
  log(`still running after ${(WATCHDOG_MS / 60_000).toFixed(1)} min: stopping`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS).unref();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

interface DbReport {
  database: Db;
  skipped?: string;
  commitLimit?: Limit;
  argon2Limit?: Limit;
  setup?: SetupReport & { apiKeyAndStartSeconds: number };
  /** (d) and (e): their own customers (SMS number or OCRA token, password, login), set up after (c). */
  setupSmsOcra?: { smsCustomers: number; smsSeconds: number; ocraCustomers: number; ocraSeconds: number; smsCodesLost: number };
  preparation?: Record<string, { created: number; seconds: number }>;
  results?: Record<string, RunResult & { offered?: number; cpu: CpuUse }>;
  profile?: ProfileSummary;
  rows: Row[];
}

function notesOf(r: RunResult): string[] {
  const notes: string[] = [];
  if (unmeasured(r)) notes.push('Nothing measured: the scenario found no material left (see the set-up lines); no verdict.');
  if (r.endedEarly) notes.push(`Ended early: ${r.endedEarly} (of ${DURATION} s); the rate is over the time it ran.`);
  if (r.errors) notes.push(`${r.errors} flows failed, e.g. ${r.firstError}`);
  return notes;
}

/** A run that found nothing to do (no TOTP step or operation left) and failed nothing: no figure to judge. */
const unmeasured = (r: RunResult) => r.flows === 0 && r.errors === 0;
const verdict = (r: RunResult, pass: boolean | null) => (unmeasured(r) ? null : pass);

async function benchDatabase(db: Db, argonSizing: Limit): Promise<DbReport> {
  const label = db === 'pglite' ? 'PGlite' : 'PostgreSQL';
  const report: DbReport = { database: db, rows: [] };
  const work = tempDir(db);
  cleanups.push(async () => fs.rmSync(work, { recursive: true, force: true }));

  let databaseUrl: string | null = null;
  let postmasterPid: number | null = null;
  if (db === 'postgres') {
    const given = givenCluster();
    if (given) ({ url: databaseUrl, postmasterPid } = given);
    else {
      log('PostgreSQL: starting a throwaway cluster (scripts/pg-cluster.sh)');
      const cluster = await startPgCluster();
      if ('skipped' in cluster) {
        report.skipped = cluster.skipped;
        return report;
      }
      cleanups.push(() => cluster.stop());
      databaseUrl = cluster.url;
      postmasterPid = cluster.postmasterPid;
    }
  }

  log(`${label}: measuring single-row UPDATE … RETURNING commits/s (c=${CONCURRENCY}, ${LIMIT_SECONDS} s)`);
  const commitLimit =
    db === 'postgres'
      ? await postgresCommitLimit(databaseUrl!, { concurrency: CONCURRENCY, seconds: LIMIT_SECONDS, poolSize: SERVER_POOL_SIZE })
      : await pgliteCommitLimit(path.join(work, 'limit-pglite'), { concurrency: CONCURRENCY, seconds: LIMIT_SECONDS });
  report.commitLimit = commitLimit;
  log(`${label}: ${fmt(commitLimit.perSecond)} commits/s`);

  const env = serverEnv({ dataDir: path.join(work, 'data'), databaseUrl });
  const t0 = performance.now();
  // The embedded database belongs to one process at a time: the key is made before the server starts.
  const apiKey = await createApiKey(env);
  let server: ServerProcess | null = null;
  const start = async (nodeArgs: string[] = []) => {
    server = await startServer(env, work, nodeArgs);
    return server;
  };
  const stop = async () => {
    const s = server;
    server = null;
    await s?.stop();
  };
  cleanups.push(stop);
  const profDir = path.join(work, 'cpu-prof');
  const srv = await start(flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
  const apiKeyAndStartSeconds = (performance.now() - t0) / 1000;
  log(`${label}: server ${srv.url} (pid ${srv.pid}) ready in ${apiKeyAndStartSeconds.toFixed(1)} s with its API key`);
  const client = new Client(srv.url, apiKey, CONCURRENCY);

  let aWindow: { fromMs: number; toMs: number } | null = null;
  try {
    // Customers. Every authentication needs a fresh (TOTP authenticator, 30 s step) pair, and every
    // customer costs two argon2id runs (password, login): a hundred or a few hundred customers, each with
    // as many TOTPs as the run may need (sized from the limits just measured, bounded in time), split
    // into three groups so that (a) using up its TOTP steps leaves (b) and (c) theirs.
    const customers = clamp(Math.round(argonSizing.perSecond * 4), QUICK ? 96 : 128, 512);
    const groupC = customers >= 160 ? CONCURRENCY : CONCURRENCY / 2;
    const groupB = CONCURRENCY;
    const peakGuess = commitLimit.perSecond * 1.5;
    const demandA = peakGuess * (3 + DURATION * 1.5);
    const usesPerTotp = 2 + Math.floor((4 * DURATION) / 30);
    const totpsPerCustomer = clamp(Math.ceil(demandA / usesPerTotp / (customers - groupB - groupC)), 2, 64);
    // Long enough for (a) at over 1,000/s to last its whole run (a TOTP step is used once).
    const budgetMs = (QUICK ? 20 : 90) * 1000;
    // Passwords and logins: two argon2id each, at about half the raw rate once HTTP and the database are in.
    const passwordPhaseMs = ((2 * customers) / argonSizing.perSecond) * 2 * 1000;
    log(
      `${label}: setting up ${customers} customers × up to ${totpsPerCustomer} TOTPs, then passwords + logins (≤ ${budgetMs / 1000} s in all)`,
    );
    const setup = await setUpCustomers(client, {
      customers,
      totpsPerCustomer,
      budgetMs,
      passwordPhaseMs,
      concurrency: CONCURRENCY,
      tag: db,
    });
    report.setup = { ...setup.report, apiKeyAndStartSeconds };
    log(
      `${label}: set-up ${setup.report.seconds.toFixed(1)} s (${setup.report.customers} customers × ${setup.report.totpsPerCustomer} TOTPs in ${setup.report.totpSeconds.toFixed(1)} s, passwords + logins ${setup.report.passwordSeconds.toFixed(1)} s)`,
    );
    const forC = setup.customers.slice(0, groupC);
    const forB = setup.customers.slice(groupC, groupC + groupB);
    const forA = setup.customers.slice(groupC + groupB);
    const prep: Record<string, { created: number; seconds: number }> = {};
    const results: Record<string, RunResult & { offered?: number; cpu: CpuUse }> = {};
    const measured = async <T extends RunResult>(name: string, run: () => Promise<T>): Promise<T> => {
      const { result, cpu } = await withCpu(srv.pid, postmasterPid, run);
      results[name] = { ...result, cpu };
      log(
        `${label}: ${name}: ${describe(result)}; CPU: server ${cpu.server?.toFixed(2) ?? '?'} cores, load generator ${cpu.client?.toFixed(2) ?? '?'}, machine ${cpu.machineBusy === null ? '?' : `${(cpu.machineBusy * 100).toFixed(0)} % busy`}`,
      );
      return result;
    };
    report.preparation = prep;
    report.results = results;

    // (a) Calibrate on a small batch (also warms the server up), then give the run enough operations.
    const qa = newQueues(forA);
    const usesA = () => forA.reduce((n, c) => n + availableUses(c), 0);
    // At most a quarter of the TOTP steps (a) has now for calibrating; the closed loop may use all the rest
    // (the steps of the next 30 s come in time for the open loop).
    prep.calibration = await createOperations(
      client,
      qa,
      'payment',
      Math.min(CONCURRENCY * 100, Math.floor(usesA() / 4)),
      CONCURRENCY,
      2000,
    );
    const cal = await runTotpClosed(client, qa, CONCURRENCY, Math.min(3, DURATION));
    log(`${label}: (a) calibration ${describe(cal)}`);
    // The open loop after it needs material too: what (a) leaves, plus the step each TOTP gains every
    // 30 s. Where that is short (PGlite enrols fewer TOTPs in the set-up's time), (a) leaves a share.
    const totpsA = forA.reduce((n, c) => n + c.totps.length, 0);
    const material = queued(qa) + usesA();
    const needHalf = Math.ceil((cal.perSecond / 2) * DURATION * 1.1);
    const reserve = clamp(needHalf - totpsA, 0, Math.floor(material / 3));
    const wantA = Math.min(Math.ceil(Math.max(cal.perSecond, 1) * DURATION * 1.3), material - reserve) - queued(qa);
    prep.totp = await createOperations(client, qa, 'payment', Math.max(0, wantA), CONCURRENCY, Math.max(30, DURATION * 2) * 1000);
    log(`${label}: (a) ${queued(qa)} payment operations ready (${prep.totp.created} created in ${prep.totp.seconds.toFixed(1)} s)`);
    const aStart = performance.now();
    const a = await measured('(a)', () => runTotpClosed(client, qa, CONCURRENCY, DURATION));
    aWindow = { fromMs: aStart - srv.spawnedAt, toMs: aStart - srv.spawnedAt + a.seconds * 1000 };

    // (a) again, open loop at half the peak.
    const half = a.perSecond / 2;
    // (a) may have used every step there is: the next one comes within 30 s.
    if (usesA() < CONCURRENCY) await sleep((PERIOD - ((Date.now() / 1000) % PERIOD)) * 1000 + 100);
    const wantHalf = Math.ceil(half * DURATION * 1.1) + CONCURRENCY - queued(qa);
    prep.totpHalf = await createOperations(client, qa, 'payment', Math.max(0, wantHalf), CONCURRENCY, Math.max(20, DURATION) * 1000);
    log(`${label}: (a½) open loop at ${fmt(half)}/s, ${queued(qa)} operations ready`);
    const ah = await measured('(a½)', () => runTotpOpen(client, qa, half, DURATION));

    // (b) The full flow, on its own customers and those of (a) (their TOTP steps come back every 30 s).
    const b = await measured('(b)', () => runFullFlow(client, [...forB, ...forA], CONCURRENCY, DURATION));

    // (c) Password verification, on login operations made beforehand, beside raw argon2id measured just
    // before and just after (the operations are made for the rate measured before).
    const qc = newQueues([...forC, ...forB, ...forA]);
    const rawArgon2 = () => {
      log(`${label}: raw argon2id verifies/s (one thread per core, ${LIMIT_SECONDS} s)`);
      return argon2Limit(SERVER_ARGON2, { seconds: LIMIT_SECONDS });
    };
    const withArgon2 = await bracketed(rawArgon2, async (before) => {
      log(`${label}: ${fmt(before.perSecond, 1)} argon2id verifies/s before (c)`);
      prep.password = await createOperations(
        client,
        qc,
        'login',
        loginOperationsFor(before.perSecond, DURATION, CONCURRENCY),
        CONCURRENCY,
        20_000,
      );
      return measured('(c)', () => runPassword(client, qc, CONCURRENCY, DURATION));
    });
    const { result: c, limit: argon2 } = withArgon2;
    report.argon2Limit = argon2;
    log(`${label}: ${fmt(withArgon2.after.perSecond, 1)} argon2id verifies/s after (c); limit ${fmt(argon2.perSecond, 1)}`);

    // (d) and (e) on their own customers, sized from the rate (a) reached (one operation per flow).
    const want = Math.ceil(Math.max(a.perSecond, 50) * DURATION * 1.3) + CONCURRENCY;
    const smsCustomers = clamp(Math.ceil(want / SMS_PER_CUSTOMER), 2 * CONCURRENCY, QUICK ? 128 : 256);
    log(`${label}: (d) setting up ${smsCustomers} customers with an SMS number, a password and a login (password + SMS)`);
    let t = performance.now();
    const smsC = await setUpSmsCustomers(client, smsCustomers, CONCURRENCY, db);
    const smsSeconds = (performance.now() - t) / 1000;
    const smsPrep = await prepareSms(client, smsC, want, CONCURRENCY, (QUICK ? 20 : 60) * 1000);
    prep.sms = { created: smsPrep.created, seconds: smsPrep.seconds };
    log(
      `${label}: (d) ${smsPrep.created} payment operations with their SMS code ready in ${smsPrep.seconds.toFixed(1)} s (customers ${smsSeconds.toFixed(1)} s${smsPrep.lost ? `, ${smsPrep.lost} codes never came` : ''})`,
    );
    const d = await measured('(d)', () => runSms(client, smsC, CONCURRENCY, DURATION));

    const ocraCustomers = 2 * CONCURRENCY;
    log(`${label}: (e) setting up ${ocraCustomers} customers with an OCRA token, a password and a login (password + OCRA)`);
    t = performance.now();
    const ocraC = await setUpOcraCustomers(client, ocraCustomers, CONCURRENCY, db);
    const ocraSeconds = (performance.now() - t) / 1000;
    // Cheap to prepare (two requests, no message), and OCRA verification is quicker than TOTP: twice as many.
    prep.ocra = await prepareOcra(client, ocraC, 2 * want, CONCURRENCY, (QUICK ? 15 : 45) * 1000);
    log(
      `${label}: (e) ${prep.ocra.created} payment operations with their OCRA challenge ready in ${prep.ocra.seconds.toFixed(1)} s (customers ${ocraSeconds.toFixed(1)} s)`,
    );
    const e = await measured('(e)', () => runOcra(client, ocraC, CONCURRENCY, DURATION));
    report.setupSmsOcra = { smsCustomers, smsSeconds, ocraCustomers, ocraSeconds, smsCodesLost: smsPrep.lost };

    // (f) WebAuthn: customers whose only means is one passkey; operations, options and assertions made beforehand.
    log(`${label}: (f) setting up ${2 * CONCURRENCY} customers with a passkey`);
    const waCustomers = await setUpWebAuthnCustomers(client, {
      count: 2 * CONCURRENCY,
      concurrency: CONCURRENCY,
      tag: db,
      serverUrl: srv.url,
    });
    const waPrep = await prepareWebAuthn(client, waCustomers, { want, concurrency: CONCURRENCY, budgetMs: (QUICK ? 15 : 45) * 1000 });
    prep.webauthn = { created: waPrep.created, seconds: waPrep.seconds };
    log(`${label}: (f) ${waPrep.created} payment operations with their signed assertion ready in ${waPrep.seconds.toFixed(1)} s`);
    const ecdsa = ecdsaVerifyLimit(LIMIT_SECONDS);
    log(`${label}: ${fmt(ecdsa.perSecond)} raw ECDSA P-256 verifies/s`);
    const f = await measured('(f)', () => runWebAuthn(client, waPrep.queues, CONCURRENCY, DURATION));

    // (g) the app authenticator: devices activated the real way, the device SDK as the load client.
    log(`${label}: (g) activating ${2 * CONCURRENCY} app installations (activation code + SMS confirmation)`);
    const appDevices = await setUpAppDevices(client, { count: 2 * CONCURRENCY, concurrency: CONCURRENCY, tag: db, serverUrl: srv.url });
    prep.app = await prepareApprovals(client, appDevices, { want, concurrency: CONCURRENCY, budgetMs: (QUICK ? 15 : 45) * 1000 });
    log(`${label}: (g) ${prep.app.created} payment operations sent to the apps in ${prep.app.seconds.toFixed(1)} s`);
    const g = await measured('(g)', () => runApprovals(appDevices, CONCURRENCY, DURATION));

    const commits = {
      what: db === 'postgres' ? `UPDATE…RETURNING commits/s (pg pool ${SERVER_POOL_SIZE})` : 'UPDATE…RETURNING commits/s (PGlite)',
      value: commitLimit.perSecond,
    };
    const totpTarget = TARGETS.totp[db];
    const fullTarget = TARGETS.fullFlow[db];
    const sessionNote = `(a)/(b): payment operations started in the login session, so the knowledge element of the login is reused and the TOTP alone is applied (EBA Q&A 2018_4141). Customers for (a) / (b) / (c): ${forA.length} / ${forB.length} / ${forC.length}, each with a password and ${setup.report.totpsPerCustomer} TOTPs (a TOTP code is accepted once per 30 s step per authenticator).`;
    const smsOcraNote = `(d)/(e): payment operations started in the login session (password + SMS, or password + OCRA), so the SMS code or the OCRA response alone is applied. (d): ${smsCustomers} customers with one SMS number each (at most 100 codes an hour per customer and per number), each code sent and read back from the dev outbox beforehand; (e): ${ocraCustomers} customers with one OCRA token each (${OCRA_SUITE}), the challenge fetched beforehand and the response computed in the load generator.`;
    report.rows.push(
      {
        database: label,
        scenario: '(a) TOTP on an existing payment op → auth code',
        flowsPerSecond: a.perSecond,
        p50: a.p50,
        p99: a.p99,
        limit: commits,
        ratio: a.perSecond / commitLimit.perSecond,
        target: `≥ ${fmt(totpTarget)}/s`,
        pass: verdict(a, a.perSecond >= totpTarget),
        notes: [sessionNote, ...notesOf(a)],
      },
      {
        database: label,
        scenario: '(a) same, open loop at ½ peak',
        flowsPerSecond: ah.perSecond,
        p50: ah.p50,
        p99: ah.p99,
        limit: { what: 'offered rate (½ peak)', value: half },
        ratio: ah.perSecond / half,
        target: `p99 < ${TARGETS.halfPeakP99Ms} ms`,
        pass: verdict(ah, ah.p99 < TARGETS.halfPeakP99Ms),
        notes: notesOf(ah),
      },
      {
        database: label,
        scenario: '(b) create → TOTP → consume',
        flowsPerSecond: b.perSecond,
        p50: b.p50,
        p99: b.p99,
        limit: commits,
        ratio: b.perSecond / commitLimit.perSecond,
        target: fullTarget ? `≥ ${fmt(fullTarget)}/s` : '—',
        pass: verdict(b, fullTarget ? b.perSecond >= fullTarget : null),
        notes: [sessionNote, ...notesOf(b)],
      },
      {
        database: label,
        scenario: '(c) password + TOTP on an existing login op',
        flowsPerSecond: c.perSecond,
        p50: c.p50,
        p99: c.p99,
        limit: { what: `argon2id verifies/s (${os.availableParallelism()} threads)`, value: argon2.perSecond },
        ratio: c.perSecond / argon2.perSecond,
        target: `≥ ${TARGETS.passwordRatio * 100} % of limit`,
        pass: verdict(c, c.perSecond / argon2.perSecond >= TARGETS.passwordRatio),
        notes: [
          `Raw argon2id ${fmt(withArgon2.before.perSecond, 1)}/s before, ${fmt(withArgon2.after.perSecond, 1)}/s after; the limit is their mean.`,
          ...notesOf(c),
        ],
      },
      {
        database: label,
        scenario: '(d) SMS code on an existing payment op → auth code',
        flowsPerSecond: d.perSecond,
        p50: d.p50,
        p99: d.p99,
        limit: commits,
        ratio: d.perSecond / commitLimit.perSecond,
        target: '—',
        pass: null,
        notes: [smsOcraNote, ...notesOf(d)],
      },
      {
        database: label,
        scenario: '(e) OCRA response on an existing payment op → auth code',
        flowsPerSecond: e.perSecond,
        p50: e.p50,
        p99: e.p99,
        limit: commits,
        ratio: e.perSecond / commitLimit.perSecond,
        target: '—',
        pass: null,
        notes: [smsOcraNote, ...notesOf(e)],
      },
      {
        database: label,
        scenario: '(f) WebAuthn assertion on an existing payment op → auth code',
        flowsPerSecond: f.perSecond,
        p50: f.p50,
        p99: f.p99,
        limit: commits,
        ratio: f.perSecond / commitLimit.perSecond,
        target: '—',
        pass: null,
        notes: [
          `(f): ${waCustomers.length} customers whose only means is one passkey (user verification: possession + inherence in one gesture); each flow posts an assertion signed beforehand over a challenge derived from the operation's link hash, checked under the customer's lock with its challenge consumed and its counter stored. Raw ${ecdsa.what} in the same run: ${fmt(ecdsa.perSecond)} (ratio ${(f.perSecond / ecdsa.perSecond).toFixed(3)}).`,
          ...notesOf(f),
        ],
      },
      {
        database: label,
        scenario: '(g) app approval (PIN) on an existing payment op → auth code',
        flowsPerSecond: g.perSecond,
        p50: g.p50,
        p99: g.p99,
        limit: commits,
        ratio: g.perSecond / commitLimit.perSecond,
        target: TARGETS.appApprovals[db] ? `≥ ${fmt(TARGETS.appApprovals[db]!)}/s` : '—',
        pass: verdict(g, TARGETS.appApprovals[db] ? g.perSecond >= TARGETS.appApprovals[db]! : null),
        notes: [
          `(g): ${appDevices.length} app installations activated through the API (activation code, SMS confirmation); the bank's side (create the operation, send it to the app) done beforehand; each flow is the app's: list what waits (≤ 20 per call), sign and send the approval with the device SDK in Node (possession ECDSA + PIN HMAC, request signed). Each approval costs the server two ECDSA verifications (request and approval): raw ${ecdsa.what} in the same run: ${fmt(ecdsa.perSecond)}.`,
          ...notesOf(g),
        ],
      },
    );
    return report;
  } catch (e) {
    const s = server as ServerProcess | null;
    if (s) log(`${label}: server log tail:\n${tail(s.logFile)}`);
    throw e;
  } finally {
    client.close();
    await stop();
    // The profile is written when the server exits.
    if (flags.profile && aWindow) report.profile = summariseProfile(profDir, aWindow, 10);
    if (flags.profile && process.env.BENCH_KEEP_PROFILE) fs.cpSync(profDir, process.env.BENCH_KEEP_PROFILE, { recursive: true });
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

async function main(): Promise<number> {
  const started = new Date();
  const loadBefore = os.loadavg()[0]!;
  const t0 = performance.now();
  const dbs: Db[] = flags.only ? [flags.only as Db] : ['pglite', 'postgres'];
  log(
    `${QUICK ? 'quick' : 'full'} run: ${DURATION} s per scenario, concurrency ${CONCURRENCY}, ${os.cpus().length} CPUs, Node ${process.version}`,
  );
  // To size the set-up (how many customers the argon2id budget allows); (c) measures its own limit later.
  const argonSizing = await argon2Limit(SERVER_ARGON2, { seconds: 2 });
  log(`argon2id: ${fmt(argonSizing.perSecond, 1)} verifies/s (for sizing)`);

  const reports: DbReport[] = [];
  for (const db of dbs) {
    const before = cleanups.length;
    try {
      reports.push(await benchDatabase(db, argonSizing));
    } finally {
      // This database's server, cluster and files go before the next one starts.
      while (cleanups.length > before) await cleanups.pop()!().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`));
    }
  }

  const rows = reports.flatMap((r) => r.rows);
  const lines = [markdownTable(rows), ''];
  for (const r of reports) {
    const name = r.database === 'pglite' ? 'PGlite' : 'PostgreSQL';
    if (r.skipped) {
      lines.push(`${name}: skipped — ${r.skipped}`);
      continue;
    }
    const s = r.setup!;
    const p = r.preparation!;
    lines.push(
      `${name} set-up: ${s.seconds.toFixed(1)} s for ${s.customers} customers × ${s.totpsPerCustomer} TOTPs (enrolment ${s.totpSeconds.toFixed(1)} s, passwords + logins ${s.passwordSeconds.toFixed(1)} s${s.retriedLogins ? `, ${s.retriedLogins} logins tried again` : ''}), after ${s.apiKeyAndStartSeconds.toFixed(1)} s for the API key and server start; operations made beforehand: ` +
        Object.entries(p)
          .map(([k, v]) => `${k} ${v.created} in ${v.seconds.toFixed(1)} s`)
          .join(', ') +
        '.' +
        (r.setupSmsOcra
          ? ` (d) / (e) customers set up in ${r.setupSmsOcra.smsSeconds.toFixed(1)} / ${r.setupSmsOcra.ocraSeconds.toFixed(1)} s${r.setupSmsOcra.smsCodesLost ? `; ${r.setupSmsOcra.smsCodesLost} SMS codes never reached the dev outbox` : ''}.`
          : ''),
    );
    if (r.results) {
      const parts = Object.entries(r.results).map(
        ([k, v]) =>
          `${k} server ${v.cpu.server?.toFixed(2) ?? '?'}${v.cpu.database === null ? '' : ` / PostgreSQL ${v.cpu.database.toFixed(2)}`} / load generator ${v.cpu.client?.toFixed(2) ?? '?'} cores, machine ${v.cpu.machineBusy === null ? '?' : `${(v.cpu.machineBusy * 100).toFixed(0)} %`} busy`,
      );
      lines.push(`${name} CPU during the runs: ${parts.join('; ')}.`);
    }
    if (r.profile) {
      lines.push(
        '',
        `${name} server main thread during (a) (--cpu-prof): idle ${(r.profile.idleShare * 100).toFixed(0)} % of the run, busy ${(r.profile.busyMs / 1000).toFixed(1)} s; top self time (share of busy time):`,
        '',
      );
      lines.push('| self ms | share | function | where |', '|--:|--:|---|---|');
      for (const h of r.profile.functions)
        lines.push(`| ${h.selfMs.toFixed(0)} | ${(h.share * 100).toFixed(1)} % | ${h.name} | ${h.where} |`);
      lines.push('', '| self ms | share | by module |', '|--:|--:|---|');
      for (const h of r.profile.modules) lines.push(`| ${h.selfMs.toFixed(0)} | ${(h.share * 100).toFixed(1)} % | ${h.name} |`);
      lines.push('');
    }
  }
  lines.push(
    `Limits measured in the same run, ${LIMIT_SECONDS} s each: commits/s at concurrency ${CONCURRENCY} before the server starts; argon2id (m=${SERVER_ARGON2.memoryCost}, t=${SERVER_ARGON2.timeCost}, p=${SERVER_ARGON2.parallelism}, one thread per core, twice as many in flight) just before and just after (c), the limit their mean.`,
  );
  const totalSeconds = (performance.now() - t0) / 1000;
  lines.push(
    `Total ${totalSeconds.toFixed(0)} s on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), 1-min load average at start ${loadBefore.toFixed(2)}.`,
  );
  console.log(`\n${lines.join('\n')}\n`);

  const out = path.join(ROOT, 'bench', 'results.json');
  fs.writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt: started.toISOString(),
        totalSeconds,
        options: { quick: QUICK, durationSeconds: DURATION, concurrency: CONCURRENCY, only: flags.only ?? null, profile: flags.profile },
        machine: {
          cpus: os.cpus().length,
          model: os.cpus()[0]?.model ?? null,
          node: process.version,
          platform: `${os.platform()} ${os.release()}`,
        },
        argon2ForSizing: argonSizing,
        databases: reports,
        table: markdownTable(rows),
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${path.relative(process.cwd(), out)}`);
  return 0;
}

main().then(
  async (code) => {
    await cleanUp();
    process.exit(code);
  },
  async (e: unknown) => {
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    await cleanUp();
    process.exit(1);
  },
);
