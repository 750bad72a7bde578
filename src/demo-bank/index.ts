import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { BankContext } from './context.js';
import { DecoyAttempts } from './decoy-attempts.js';
import { renderBankError } from './errors.js';
import { Ledger } from './ledger.js';
import { accountRoutes } from './routes/accounts.js';
import { appRoutes } from './routes/app.js';
import { loginRoutes } from './routes/login.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { securityRoutes } from './routes/security.js';
import { transferRoutes } from './routes/transfers.js';
import { SesameClient } from './sesame-client.js';
import { BankSessions } from './sessions.js';

export { SesameClient, SesameApiError, SesameUnavailableError } from './sesame-client.js';

export interface DemoBankOptions {
  /**
   * Where Sésame's relying-party API answers, e.g. `http://127.0.0.1:8080`; or a function read at each
   * call, when the server mounting the bank learns its own address only once it listens (`PORT=0`).
   */
  sesameUrl: string | (() => string);
  /** The bank's relying-party API key (`sk_…`). */
  apiKey: string;
  /** Time source for the bank's own records (transfer dates, session pruning). */
  clock?: { now(): Date };
}

/**
 * The demo web banking's back-end: a relying party like any other. It keeps its own customers' accounts
 * and web sessions in memory and reaches Sésame only over HTTP with its API key, through
 * {@link SesameClient}, so it doubles as the integration example. It registers JSON routes under
 * `/bank/api/` (full paths: register it without a prefix); the page itself is the SPA in `web/`.
 *
 * @example
 * await app.register(demoBankPlugin, { sesameUrl: 'http://127.0.0.1:8080', apiKey: 'sk_…' });
 */
export async function demoBankPlugin(app: FastifyInstance, opts: DemoBankOptions): Promise<void> {
  if (typeof opts.sesameUrl === 'string' && !/^https?:\/\//.test(opts.sesameUrl)) {
    throw new Error('demoBankPlugin: sesameUrl must be an http(s) URL.');
  }
  if (!opts.apiKey) throw new Error('demoBankPlugin: apiKey is required.');
  const now = () => (opts.clock ?? systemClock).now();

  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);

  const ctx: BankContext = {
    sesame: new SesameClient({ baseUrl: opts.sesameUrl, apiKey: opts.apiKey }),
    sessions: new BankSessions(now),
    ledger: new Ledger(now),
    decoys: new DecoyAttempts(now),
    now,
  };

  app.setErrorHandler(renderBankError);
  app.addHook('onSend', async (_request, reply) => {
    // Balances and authentication results must not linger in any cache.
    reply.header('cache-control', 'no-store');
  });

  loginRoutes(app, ctx);
  accountRoutes(app, ctx);
  transferRoutes(app, ctx);
  securityRoutes(app, ctx);
  passkeyRoutes(app, ctx);
  appRoutes(app, ctx);
}

const systemClock = { now: () => new Date() };
