import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequest, Unauthorized } from '../core/errors.js';
import { requestSigningInput } from '../../sdk/device/src/payload.js';
import { parsePossessionKey, verifyPossessionSignature, type AppParams } from '../methods/app/keys.js';
import type { Services } from '../context.js';
import type { AuthenticatorRow } from '../store/schema.js';

/**
 * The device API's audience: each request is signed by the installation's possession key
 * (`Authorization: SesameDevice id=…, ts=…, nonce=…, sig=…`, over method, path, time, nonce and the
 * body's digest — see the device SDK). A time more than 5 minutes off, or a nonce already seen, is
 * refused. Nonces of requests that change something are recorded in the database, so a replay to
 * another server process fails too; reads keep theirs in memory.
 */
declare module 'fastify' {
  interface FastifyRequest {
    device?: AuthenticatorRow;
    /** The body exactly as received: the signature covers its digest. */
    rawBody?: string;
  }
}

const MAX_SKEW_MS = 5 * 60_000;
const HEADER = /^SesameDevice id="([A-Za-z0-9_-]{1,64})", ts="(\d{1,16})", nonce="([A-Za-z0-9_-]{16,64})", sig="([A-Za-z0-9_-]{86})"$/;

/** Keeps the raw JSON body (signed) while parsing it like every other route. */
export function keepRawJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    (req as FastifyRequest).rawBody = body as string;
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch {
      done(new InvalidRequest('ERR_MALFORMED', 'The body is not valid JSON.'), undefined);
    }
  });
}

export function requireDevice(s: Services, opts: { allowPending?: boolean; newKey?: boolean } = {}) {
  const seen = new Map<string, number>();
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // The device corrects its clock from this header (a phone's clock may be off).
    reply.header('date', s.clock.now().toUTCString());
    const m = HEADER.exec(req.headers.authorization ?? '');
    if (!m) throw new Unauthorized('A signed device request is required (Authorization: SesameDevice id=…, ts=…, nonce=…, sig=…).');
    const [, id, tsText, nonce, sig] = m as unknown as [string, string, string, string, string];
    const now = s.clock.now().getTime();
    const ts = Number(tsText);
    if (Math.abs(now - ts) > MAX_SKEW_MS)
      throw new Unauthorized('The request time is too far from the server’s: check the device clock.', 'ERR_DEVICE_CLOCK');
    let key: AppParams['possessionKey'];
    if (opts.newKey) {
      if (id !== 'new') throw new Unauthorized('An activation is signed with the new key (id="new").');
      try {
        key = parsePossessionKey(((req.body ?? {}) as { possessionKey?: Record<string, unknown> }).possessionKey ?? {});
      } catch {
        throw new InvalidRequest('ERR_VALIDATION', 'possessionKey must be a P-256 public key (JWK).', { field: 'possessionKey' });
      }
    } else {
      const device = await s.db
        .selectFrom('authenticators')
        .selectAll()
        .where('id', '=', id)
        .where('kind', '=', 'app')
        .where('status', 'in', opts.allowPending ? ['active', 'pending'] : ['active'])
        .executeTakeFirst();
      if (!device) throw new Unauthorized('This installation is not (or no longer) an active app authenticator.', 'ERR_DEVICE_UNKNOWN');
      key = (device.params as unknown as AppParams).possessionKey;
      req.device = device;
    }
    const input = await requestSigningInput({ method: req.method, path: req.url, ts, nonce, body: req.rawBody ?? '' });
    if (!verifyPossessionSignature(key, input, sig))
      throw new Unauthorized('The request signature does not verify.', 'ERR_DEVICE_SIGNATURE');
    // Every request that writes keeps its nonce in the database: a replay to another process fails too
    // (a failed approval changes nothing else, and replayed it would count one more failure).
    await rememberNonce(s, req.method === 'GET' ? seen : null, `${id}:${key.x}`, nonce, now);
  };
}

async function rememberNonce(s: Services, memory: Map<string, number> | null, who: string, nonce: string, now: number): Promise<void> {
  const expires = now + 2 * MAX_SKEW_MS;
  if (memory) {
    const k = `${who}:${nonce}`;
    if (memory.has(k)) throw new Unauthorized('This request was already received (replay).', 'ERR_DEVICE_REPLAY');
    if (memory.size > 50_000) for (const [key, exp] of memory) if (exp < now) memory.delete(key);
    memory.set(k, expires);
    return;
  }
  const inserted = await s.db
    .insertInto('device_request_nonces')
    .values({ authenticator_id: who.slice(0, 200), nonce, expires_at: new Date(expires) })
    .onConflict((oc) => oc.doNothing())
    .returning('nonce')
    .executeTakeFirst();
  if (!inserted) throw new Unauthorized('This request was already received (replay).', 'ERR_DEVICE_REPLAY');
  if (Math.random() < 0.01) await s.db.deleteFrom('device_request_nonces').where('expires_at', '<', new Date(now)).execute();
}
