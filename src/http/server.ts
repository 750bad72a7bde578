import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { InvalidRequest } from '../core/errors.js';
import helmet from 'helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from '@sinclair/typebox';
import type { Services } from '../context.js';
import { setWebhook } from '../journeys/principals.js';
import { requireAdvisor, requireRelyingParty } from './auth.js';
import { parseJsonStrictly } from './json-body.js';
import { trackAllowedMethods } from './allowed-methods.js';
import { installProblemHandlers, noRouteFor, problem, sendProblem, type NoRouteHandler } from './problem.js';
import { advisorRoutes } from './routes/advisor.js';
import { APP_SCHEMAS, appRoutes } from './routes/app.js';
import { deviceRoutes } from './routes/device.js';
import { authenticatorRoutes } from './routes/authenticators.js';
import { customerRoutes } from './routes/customers.js';
import { operationRoutes } from './routes/operations.js';
import { hardwareTokenRoutes } from './routes/hardware-tokens.js';
import { sessionRoutes } from './routes/sessions.js';
import { phoneRoutes } from './routes/phone.js';
import { webauthnRoutes } from './routes/webauthn.js';
import { securePhoneRoutes } from './routes/secure-phone.js';
import { twilioRoutes } from './routes/twilio.js';
import { devPhoneRoutes } from './routes/dev-phone.js';
import { metricsRoutes } from './routes/metrics.js';
import { problems, SHARED_SCHEMAS } from './schemas.js';

export interface HttpOptions {
  /** Extra routes mounted in the same server (the demo bank in development). */
  plugins?: ((app: FastifyInstance) => Promise<void>)[];
  /** Folder of the built web front-end served at `/`, if present. */
  webDist?: string | null;
  logger?: boolean;
}

/**
 * The security headers of every answer (helmet): a strict CSP for the front-ends, no framing, no sniffing,
 * no referrer. In production also HSTS and upgrade-insecure-requests; development runs on plain http,
 * possibly by another hostname than localhost, so it sends neither.
 *
 * None of them depends on the request: helmet runs once, on a response that records what it sets, and
 * every answer gets the recorded headers (running its dozen middlewares per request showed in the hot
 * path's profile).
 */
export function securityHeadersFor(mode: 'development' | 'production'): ReadonlyMap<string, string> {
  const dev = mode === 'development';
  const middleware = helmet({
    strictTransportSecurity: dev ? false : { maxAge: 31_536_000, includeSubDomains: true },
    contentSecurityPolicy: {
      directives: {
        upgradeInsecureRequests: dev ? null : [],
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
      },
    },
  });
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => void headers.delete(name.toLowerCase()),
  };
  let failure: unknown = null;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => (failure = err ?? null));
  if (failure) throw failure;
  return headers;
}

/** Fields that must never reach a log line. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];

export async function buildHttp(s: Services, opts: HttpOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger === false ? false : { level: s.config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } },
    bodyLimit: 64 * 1024,
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // A malformed URL (bad percent-encoding) is bad input like any other: problem+json.
    frameworkErrors: (err, _req, reply) => sendProblem(reply, problem(400, 'ERR_MALFORMED', err.message)),
    // What Node's parser refuses before any route sees it (headers too large, a request that is not HTTP).
    clientErrorHandler: answerUnparsableRequest,
    // Request bodies are never logged; the default serializers log method and URL only.
  });
  installProblemHandlers(app);
  const noRoute = noRouteFor(trackAllowedMethods(app));
  // The API speaks JSON only, in UTF-8: any other body is refused with 415 rather than parsed as text.
  app.removeContentTypeParser('text/plain');
  parseJsonStrictly(app);
  app.addHook('preValidation', refuseUnstorableText);
  for (const schema of [...SHARED_SCHEMAS, ...APP_SCHEMAS]) app.addSchema(schema);

  // Security headers on every answer, errors included.
  const securityHeaders = [...securityHeadersFor(s.config.mode)];
  app.addHook('onRequest', (_req, reply, done) => {
    for (const [name, value] of securityHeaders) reply.raw.setHeader(name, value);
    done();
  });
  // Before every other route: its answer-time hook sees them all.
  await metricsRoutes(app, s);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Sésame API',
        version: '0.1.0',
        description:
          'Strong customer authentication (PSD2 SCA) for banks. Relying-party routes take `Authorization: Bearer sk_…`; advisor routes `Bearer adv_…`. Errors are RFC 9457 problem+json.',
      },
      servers: [{ url: s.config.publicUrl }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'Relying-party API key (sk_…)' },
          advisorToken: { type: 'http', scheme: 'bearer', description: 'Advisor token (adv_…)' },
          deviceSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description:
              'App installation: SesameDevice id="…", ts="…", nonce="…", sig="…" (ECDSA P-256 over the request; see the device SDK)',
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get(
    '/health',
    { schema: { tags: ['service'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.String() }) } } },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/ready',
    {
      schema: {
        tags: ['service'],
        summary: 'Readiness: the database answers',
        response: { 200: Type.Object({ status: Type.String(), database: Type.String() }), ...problems(503) },
      },
    },
    async (_req, reply) => {
      try {
        await s.db.selectFrom('audit_heads').select('chain').limit(1).execute();
        return { status: 'ready', database: s.store.kind };
      } catch {
        return sendProblem(reply as FastifyReply, problem(503, 'ERR_NOT_READY', 'The database does not answer.'));
      }
    },
  );
  app.get(
    '/.well-known/jwks.json',
    { schema: { tags: ['authentication codes'], summary: 'Public keys that sign authentication codes' } },
    async (_req, reply) => {
      await s.signingKeys.ensureLoaded();
      return reply.header('cache-control', 'public, max-age=300').send(s.signingKeys.jwks());
    },
  );

  await app.register(async (rp) => {
    rp.addHook('onRequest', requireRelyingParty(s));
    // Answers carry secrets (session tokens, authentication codes, TOTP seeds): never cached anywhere.
    rp.addHook('onSend', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
    });
    rp.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ apiKey: [] }] };
    });
    await customerRoutes(rp, s);
    await authenticatorRoutes(rp, s);
    await operationRoutes(rp, s);
    await sessionRoutes(rp, s);
    await hardwareTokenRoutes(rp, s);
    await phoneRoutes(rp, s);
    await webauthnRoutes(rp, s);
    await securePhoneRoutes(rp, s);
    await appRoutes(rp, s);
    rp.put('/v1/webhook', {
      schema: {
        tags: ['events'],
        summary: 'Set (or clear with null) where events are delivered; returns the signing secret once',
        body: Type.Object(
          {
            url: Type.Union([
              Type.String({
                format: 'uri',
                maxLength: 2000,
                description: 'http(s), without credentials or fragment; https in production unless to this machine',
              }),
              Type.Null(),
            ]),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ url: Type.Union([Type.String(), Type.Null()]), secret: Type.Union([Type.String(), Type.Null()]) }),
          ...problems(400, 401),
        },
      },
      handler: async (req) => setWebhook(s, req.rp!.id, (req.body as { url: string | null }).url),
    });
  });
  await app.register(async (device) => deviceRoutes(device, s));
  await app.register(async (adv) => {
    adv.addHook('onRequest', requireAdvisor(s));
    adv.addHook('onSend', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
    });
    adv.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ advisorToken: [] }] };
    });
    await advisorRoutes(adv, s);
  });

  const twilio = s.config.channels.twilio;
  if (twilio) await app.register((tw) => twilioRoutes(tw, s, twilio.authToken));
  const devOutbox = s.channels.devOutbox;
  if (devOutbox) await app.register((dev) => devPhoneRoutes(dev, devOutbox));
  for (const plugin of opts.plugins ?? []) await app.register(plugin);
  if (opts.webDist && fs.existsSync(path.join(opts.webDist, 'index.html'))) await serveWeb(app, opts.webDist, noRoute);
  else app.setNotFoundHandler(noRoute);
  return app;
}

/**
 * A request Node's HTTP parser refused answered as problem+json too, then the connection closed (what
 * follows on it cannot be framed). Headers over Node's limit are a 431 naming what to shrink.
 */
function answerUnparsableRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const p =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? problem(431, 'ERR_HEADERS_TOO_LARGE', 'The request headers are too large; send fewer or shorter ones (cookies included).')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? problem(408, 'ERR_REQUEST_TIMEOUT', 'The request took too long to arrive.')
        : problem(400, 'ERR_MALFORMED', 'The request is not valid HTTP.');
  if (socket.writable) {
    const body = JSON.stringify(p);
    socket.write(
      `HTTP/1.1 ${p.status} ${p.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * PostgreSQL text cannot hold U+0000, nor a lone UTF-16 surrogate (JSON's "\ud800" parses into one, which
 * no UTF-8 can encode): refuse either in any id, query or body string with a 400 naming the field, before
 * it reaches the database.
 */
async function refuseUnstorableText(req: FastifyRequest): Promise<void> {
  const hit = findUnstorable(req.params, 'params') ?? findUnstorable(req.query, 'querystring') ?? findUnstorable(req.body, '');
  if (hit === null) return;
  const field = hit.path || 'body';
  const what = hit.why === 'nul' ? 'a NUL character' : 'a lone surrogate (text that is not valid Unicode)';
  throw new InvalidRequest('ERR_VALIDATION', `${field} must not contain ${what}.`, { field });
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(text: string): 'nul' | 'surrogate' | null {
  if (text.includes('\u0000')) return 'nul';
  return LONE_SURROGATE.test(text) ? 'surrogate' : null;
}

function findUnstorable(value: unknown, path: string): { path: string; why: 'nul' | 'surrogate' } | null {
  if (typeof value === 'string') {
    const why = unstorable(value);
    return why ? { path, why } : null;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const hit = findUnstorable(v, path ? `${path}/${i}` : String(i));
      if (hit !== null) return hit;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const inKey = unstorable(k);
      if (inKey) return { path: path || 'body', why: inKey };
      const hit = findUnstorable(v, path ? `${path}/${k}` : k);
      if (hit !== null) return hit;
    }
  }
  return null;
}

/** The single-page front-ends: files from the build, and index.html for client-side routes. */
async function serveWeb(app: FastifyInstance, root: string, noRoute: NoRouteHandler): Promise<void> {
  await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: ['index.html'] });
  const API = /^\/(v1|bank\/api|docs|openapi\.json|\.well-known|health|ready)(\/|$)/;
  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'GET' && !API.test(req.url) && (req.headers.accept ?? '').includes('text/html')) {
      // The authenticator app (a PWA scoped to /app/) has its own page; everything else is the bank's.
      const page =
        /^\/app(\/|$|\?|#)/.test(req.url) && fs.existsSync(path.join(root, 'app', 'index.html')) ? 'app/index.html' : 'index.html';
      return reply.type('text/html').sendFile(page);
    }
    return noRoute(req, reply);
  });
}
