import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequest, Unauthorized } from '../core/errors.js';
import { requestSigningInputWithDigest } from '../../sdk/device/src/payload.js';
import { parsePossessionKey, verifyPossessionSignature, type AppParams } from '../methods/app/keys.js';
import type { Services } from '../context.js';
import { purgeNoncesNowAndThen, rememberNonce, replayed, type DeviceNonce } from '../store/device-nonces.js';
import type { AuthenticatorRow } from '../store/schema.js';

/**
 * The device API's audience: each request is signed by the installation's possession key
 * (`Authorization: SesameDevice id=…, ts=…, nonce=…, sig=…`, over method, path, time, nonce and the
 * body's digest — see the device SDK). A time more than 5 minutes off, or a nonce already seen, is
 * refused. Nonces of requests that change something are recorded in the database, so a replay to
 * another server process fails too; reads keep theirs in memory. An approval, the hot path, reads the
 * installation with the request it answers and keeps its nonce in the attempt's own statement
 * ({@link deviceClaim}, {@link signedByDevice}).
 */
declare module 'fastify' {
  interface FastifyRequest {
    device?: AuthenticatorRow;
    /** What the header claims, on routes that check the signature themselves ({@link deviceClaim}). */
    deviceClaim?: DeviceClaim;
  }
}

const MAX_SKEW_MS = 5 * 60_000;
const HEADER = /^SesameDevice id="([A-Za-z0-9_-]{1,64})", ts="(\d{1,16})", nonce="([A-Za-z0-9_-]{16,64})", sig="([A-Za-z0-9_-]{86})"$/;

/** What the Authorization header claims; the signature is checked against the installation's key later. */
export interface DeviceClaim {
  id: string;
  ts: number;
  nonce: string;
  sig: string;
}

/** The header's form and time (no database read): a malformed or stale request is refused here. */
function claimOf(s: Services, req: FastifyRequest, reply: FastifyReply): DeviceClaim {
  // The device corrects its clock from this header (a phone's clock may be off).
  reply.header('date', s.clock.now().toUTCString());
  const m = HEADER.exec(req.headers.authorization ?? '');
  if (!m) throw new Unauthorized('A signed device request is required (Authorization: SesameDevice id=…, ts=…, nonce=…, sig=…).');
  const [, id, tsText, nonce, sig] = m as unknown as [string, string, string, string, string];
  const ts = Number(tsText);
  if (Math.abs(s.clock.now().getTime() - ts) > MAX_SKEW_MS)
    throw new Unauthorized('The request time is too far from the server’s: check the device clock.', 'ERR_DEVICE_CLOCK');
  return { id, ts, nonce, sig };
}

/**
 * Refuses a request the installation's key did not sign (method, path, time, nonce, body digest); returns
 * its nonce as kept in the database, per installation and key, until the skew window is over.
 */
function verifiedNonce(s: Services, key: AppParams['possessionKey'], req: FastifyRequest, claim: DeviceClaim): DeviceNonce {
  const digest = createHash('sha256')
    .update(req.rawBody ?? '')
    .digest('base64url');
  const input = requestSigningInputWithDigest({ method: req.method, path: req.url, ts: claim.ts, nonce: claim.nonce }, digest);
  if (!verifyPossessionSignature(key, input, claim.sig))
    throw new Unauthorized('The request signature does not verify.', 'ERR_DEVICE_SIGNATURE');
  return { who: `${claim.id}:${key.x}`.slice(0, 200), nonce: claim.nonce, expiresAt: new Date(s.clock.now().getTime() + 2 * MAX_SKEW_MS) };
}

/**
 * Only the header's form and time, for a route that reads the installation together with what it acts
 * on, then checks the signature ({@link signedByDevice}) and keeps the nonce with its own write.
 */
export function deviceClaim(s: Services) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    req.deviceClaim = claimOf(s, req, reply);
  };
}

/** For {@link approveSigned}: the installation read must exist and have signed this request; returns the nonce to keep. */
export function signedByDevice(s: Services, req: FastifyRequest) {
  return (device: AuthenticatorRow | undefined): DeviceNonce => {
    if (!device) throw unknownDevice();
    return verifiedNonce(s, (device.params as unknown as AppParams).possessionKey, req, req.deviceClaim!);
  };
}

export function requireDevice(s: Services, opts: { allowPending?: boolean; newKey?: boolean } = {}) {
  const seen = new Map<string, number>();
  return async (req: FastifyRequest, reply: FastifyReply) => {
    // A route that parsed the header already (deviceClaim) and then needs the general check.
    const claim = req.deviceClaim ?? claimOf(s, req, reply);
    let key: AppParams['possessionKey'];
    if (opts.newKey) {
      if (claim.id !== 'new') throw new Unauthorized('An activation is signed with the new key (id="new").');
      try {
        key = parsePossessionKey(((req.body ?? {}) as { possessionKey?: Record<string, unknown> }).possessionKey ?? {});
      } catch {
        throw new InvalidRequest('ERR_VALIDATION', 'possessionKey must be a P-256 public key (JWK).', { field: 'possessionKey' });
      }
    } else {
      const device = await s.db
        .selectFrom('authenticators')
        .selectAll()
        .where('id', '=', claim.id)
        .where('kind', '=', 'app')
        .where('status', 'in', opts.allowPending ? ['active', 'pending'] : ['active'])
        .executeTakeFirst();
      if (!device) throw unknownDevice();
      key = (device.params as unknown as AppParams).possessionKey;
      req.device = device;
    }
    const nonce = verifiedNonce(s, key, req, claim);
    // Every request that writes keeps its nonce in the database: a replay to another process fails too
    // (a failed approval changes nothing else, and replayed it would count one more failure).
    if (req.method === 'GET') rememberInMemory(seen, nonce, s.clock.now().getTime());
    else {
      await rememberNonce(s.db, nonce);
      await purgeNoncesNowAndThen(s.db, s.clock.now());
    }
  };
}

export const unknownDevice = () =>
  new Unauthorized('This installation is not (or no longer) an active app authenticator.', 'ERR_DEVICE_UNKNOWN');
function rememberInMemory(memory: Map<string, number>, n: DeviceNonce, now: number): void {
  const k = `${n.who}:${n.nonce}`;
  if (memory.has(k)) throw replayed();
  if (memory.size > 50_000) for (const [key, exp] of memory) if (exp < now) memory.delete(key);
  memory.set(k, n.expiresAt.getTime());
}
