import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from './store/db.js';

/**
 * What operators watch (Prometheus text format at `GET /metrics`): SCA attempts by operation type and
 * outcome, the blocks they caused, answer times by route, what waits in the two outboxes, and the
 * process's own figures (event-loop delay, memory, CPU). Labels are bounded sets (operation types, route
 * templates, status codes): never a customer, an operation, a code or an address.
 */
export type ScaOutcome = 'success' | 'failure' | 'blocked';

export class Metrics {
  readonly registry = new Registry();
  readonly #scaAttempts = new Counter({
    name: 'sesame_sca_attempts_total',
    help: 'SCA attempts, by operation type and outcome (blocked: refused because the customer is blocked)',
    labelNames: ['operation_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #blocks = new Counter({
    name: 'sesame_customer_blocks_total',
    help: 'Customers blocked after too many consecutive failures, temporarily or for good',
    labelNames: ['permanent'] as const,
    registers: [this.registry],
  });
  readonly #http = new Histogram({
    name: 'sesame_http_request_duration_seconds',
    help: 'Time to answer a request, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor(db: Db) {
    // Read when scraped: the backlog of webhook events and of SMS, calls and email not yet handed over.
    new Gauge({
      name: 'sesame_outbox_pending',
      help: 'Rows waiting in an outbox (webhooks: events not yet delivered; messages: SMS, calls and email not yet sent)',
      labelNames: ['outbox'] as const,
      registers: [this.registry],
      async collect() {
        for (const table of ['outbox_events', 'messages'] as const) {
          const outbox = table === 'outbox_events' ? 'webhooks' : 'messages';
          try {
            const row = await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<string>().as('n'))
              .where('status', '=', 'pending')
              .executeTakeFirstOrThrow();
            this.set({ outbox }, Number(row.n));
          } catch {
            // The database is away: the scrape still answers with everything else, and this series is
            // left out (no stale figure) — the database's own alert says why.
            this.remove({ outbox });
          }
        }
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'sesame_' });
  }

  scaAttempt(operationType: string, outcome: ScaOutcome): void {
    this.#scaAttempts.inc({ operation_type: operationType, outcome });
  }

  customerBlocked(permanent: boolean): void {
    this.#blocks.inc({ permanent: String(permanent) });
  }

  /** `route` is the route's template (`/v1/operations/:id/authenticate`), or `unmatched`. */
  answered(method: string, route: string, status: number, seconds: number): void {
    this.#http.observe({ method, route, status: String(status) }, seconds);
  }
}
