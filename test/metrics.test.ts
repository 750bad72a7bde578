import { describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.js';
import type { Db } from '../src/store/db.js';

/** The figures an operator scrapes, without a server: a scrape must answer even when the database is away. */
describe('metrics', () => {
  it('a scrape while the database is away still answers, leaving the outbox backlog out rather than failing or going stale', async () => {
    let down = false;
    const counts = { outbox_events: '3', messages: '1' };
    const db = {
      selectFrom(table: keyof typeof counts) {
        if (down) throw new Error('connection refused');
        const chain = { select: () => chain, where: () => chain, executeTakeFirstOrThrow: async () => ({ n: counts[table] }) };
        return chain;
      },
    } as unknown as Db;
    const metrics = new Metrics(db);
    metrics.scaAttempt('payment', 'success');
    const up = await metrics.registry.metrics();
    expect(up).toContain('sesame_outbox_pending{outbox="webhooks"} 3');
    expect(up).toContain('sesame_outbox_pending{outbox="messages"} 1');

    down = true;
    const away = await metrics.registry.metrics();
    expect(away).toContain('sesame_sca_attempts_total{operation_type="payment",outcome="success"} 1');
    expect(away).not.toMatch(/^sesame_outbox_pending\{/m);
  });
});
