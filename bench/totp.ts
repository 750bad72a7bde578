/**
 * (a) on its own: TOTP on an existing payment operation up to the authentication code, with (b) (create →
 * TOTP → consume) after it when `--full` is given. For working on the hot path:
 *
 *   npx tsx bench/totp.ts [--seconds=10] [--postgres] [--concurrency=32] [--full]
 *
 * Fewer customers than `npm run bench` (64, each with TOTPs enough for the run), so the set-up takes
 * about a minute rather than two.
 */
import { availableUses, setUpCustomers } from './lib/customers.js';
import { createOperations, newQueues, queued, runFullFlow, runTotpClosed } from './lib/scenarios.js';
import { runStandalone } from './lib/standalone.js';

runStandalone(import.meta.url, {
  tag: 'totp',
  scenario: (flags) => (flags.full ? '(b) create → TOTP → consume' : '(a) TOTP on an existing payment op → auth code'),
  flags: ['full'],
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
    const uses = setup.customers.reduce((n, c) => n + availableUses(c), 0);
    const prep = await createOperations(client, queues, 'payment', Math.min(uses, 1500 * seconds), concurrency, 60_000);
    process.stderr.write(`[totp] ${queued(queues)} payment operations ready in ${prep.seconds.toFixed(1)} s\n`);
    const result = await measure(() => runTotpClosed(client, queues, concurrency, seconds));
    return { result, notes: [] };
  },
});
