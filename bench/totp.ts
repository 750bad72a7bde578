/**
 * (a), (b) or (c) on their own, for working on the hot path:
 *
 *   npx tsx bench/totp.ts [--seconds=10] [--postgres] [--concurrency=32]              # (a) TOTP on an existing payment op
 *   npx tsx bench/totp.ts --full …                                                      # (b) create → TOTP → consume
 *   npx tsx bench/totp.ts --password …                                                  # (c) password + TOTP, between two raw argon2id runs
 *
 * Fewer customers than `npm run bench` (64, each with TOTPs enough for the run), so the set-up takes
 * about a minute rather than two.
 */
import { availableUses, setUpCustomers } from './lib/customers.js';
import { argon2Limit, bracketed, SERVER_ARGON2 } from './lib/limits.js';
import { createOperations, loginOperationsFor, newQueues, queued, runFullFlow, runPassword, runTotpClosed } from './lib/scenarios.js';
import { runStandalone } from './lib/standalone.js';

runStandalone(import.meta.url, {
  tag: 'totp',
  scenario: (flags) =>
    flags.full
      ? '(b) create → TOTP → consume'
      : flags.password
        ? '(c) password + TOTP on an existing login op'
        : '(a) TOTP on an existing payment op → auth code',
  flags: ['full', 'password'],
  async run({ flags, client, concurrency, seconds, measure }) {
    // About 1,500 flows a second: every flow takes one (TOTP, 30 s step) pair.
    const customers = 2 * concurrency;
    const usesPerTotp = 2 + Math.floor((4 * seconds) / 30);
    const totpsPerCustomer = Math.min(64, Math.ceil((1500 * (seconds + 5)) / usesPerTotp / customers));
    const setup = await setUpCustomers(client, {
      customers,
      totpsPerCustomer,
      budgetMs: 60_000,
      passwordPhaseMs: 5_000,
      concurrency,
      tag: 'solo',
    });
    process.stderr.write(
      `[totp] ${customers} customers × ${setup.report.totpsPerCustomer} TOTPs in ${setup.report.seconds.toFixed(1)} s\n`,
    );
    if (flags.full) {
      const result = await measure(() => runFullFlow(client, setup.customers, concurrency, seconds));
      return { result, notes: [] };
    }
    const queues = newQueues(setup.customers);
    if (flags.password) {
      const raw = () => argon2Limit(SERVER_ARGON2, { seconds: 5 });
      const { result, before, after, limit } = await bracketed(raw, async (before) => {
        await createOperations(client, queues, 'login', loginOperationsFor(before.perSecond, seconds, concurrency), concurrency, 20_000);
        return measure(() => runPassword(client, queues, concurrency, seconds));
      });
      return {
        result,
        notes: [
          `Raw ${limit.what}: ${before.perSecond.toFixed(1)} before, ${after.perSecond.toFixed(1)} after, mean ${limit.perSecond.toFixed(1)}; ratio ${((100 * result.perSecond) / limit.perSecond).toFixed(0)} %.`,
        ],
      };
    }
    const uses = setup.customers.reduce((n, c) => n + availableUses(c), 0);
    const prep = await createOperations(client, queues, 'payment', Math.min(uses, 1500 * seconds), concurrency, 60_000);
    process.stderr.write(`[totp] ${queued(queues)} payment operations ready in ${prep.seconds.toFixed(1)} s\n`);
    const result = await measure(() => runTotpClosed(client, queues, concurrency, seconds));
    return { result, notes: [] };
  },
});
