import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { createServices, type Services } from './context.js';
import { startWebhookLoop } from './events/webhooks.js';
import { startMessageLoop } from './events/messages.js';
import { buildHttp } from './http/server.js';
import { openStore } from './store/db.js';
import { demoBankPlugin } from './demo-bank/index.js';
import { ensureDevApiKey, seedDemo, type DemoData } from './demo/seed.js';

export interface Sesame {
  app: FastifyInstance;
  services: Services;
  /** Where the server listens once `listen()` resolved. */
  url: string;
  /** Demo data, in development mode with the demo on. */
  demo: DemoData | null;
  /** Development mode: the demo relying party's API key (also in `<data dir>/dev-api-key.txt`). */
  devApiKey: string | null;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface CreateSesameOptions {
  config: Config;
  clock?: Clock;
  /** Data folder for the embedded database; `null` = in memory (tests). Defaults to `config.dataDir`. */
  dataDir?: string | null;
  logger?: boolean;
  webhooks?: boolean;
}

export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

/**
 * Builds a whole server: store (embedded PGlite or PostgreSQL), migrations, keys, HTTP API, web
 * front-ends and the webhook loop. `npm start`, the CLI and the tests all start Sésame this way.
 *
 * @example
 * const sesame = await createSesame({ config: loadConfig() });
 * console.log(await sesame.listen()); // http://127.0.0.1:8080
 */
export async function createSesame(opts: CreateSesameOptions): Promise<Sesame> {
  const config = { ...opts.config };
  // The demo bank calls the API over HTTP, so it must know the port before routes are registered.
  if (config.port === 0) config.port = await freePort(config.host);
  const baseUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (!process.env.SESAME_PUBLIC_URL && opts.config.port === 0) config.publicUrl = baseUrl;
  const dataDir = opts.dataDir === undefined ? config.dataDir : opts.dataDir;
  let log: FastifyInstance['log'] | null = null;
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    poolSize: config.databasePoolSize,
    dataDir: dataDir ? path.join(dataDir, 'pglite') : null,
    onIdleError: (err) => log?.warn({ err: err.message }, 'an idle database connection was closed by the server; it will be replaced'),
  });
  const services = await createServices(config, opts.clock ?? systemClock, store, dataDir);
  const demo = config.demo ? await seedDemo(services, dataDir) : null;
  const devKey = !demo && config.mode === 'development' ? await ensureDevApiKey(services, dataDir) : null;
  // The demo bank is a relying party like any other: it calls this server over HTTP with its API key.
  const plugins = demo
    ? [(app: FastifyInstance) => demoBankPlugin(app, { sesameUrl: baseUrl, apiKey: demo.apiKey, clock: services.clock })]
    : [];
  const app = await buildHttp(services, { plugins, webDist: WEB_DIST, logger: opts.logger ?? true });
  log = app.log;
  const loop = opts.webhooks === false ? null : startWebhookLoop(services);
  // SMS, calls and email: sent at once when queued, and retried from the durable outbox.
  const messages = startMessageLoop(services);
  services.messagesQueued = messages.kick;
  return {
    app,
    services,
    url: baseUrl,
    demo,
    devApiKey: demo?.apiKey ?? devKey?.apiKey ?? null,
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      return baseUrl;
    },
    async close() {
      await loop?.stop();
      await messages.stop();
      await app.close();
      await store.close();
    },
  };
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
