import type { FastifyReply, FastifyRequest } from 'fastify';
import { Unauthorized } from '../core/errors.js';
import type { Services } from '../context.js';
import { advisorByToken, relyingPartyByKey, type Advisor, type RelyingParty } from '../journeys/principals.js';

/**
 * The API's audiences are kept apart: relying parties (the bank's back-ends) present an API key,
 * advisors their own token; neither can call the other's routes.
 */
declare module 'fastify' {
  interface FastifyRequest {
    rp?: RelyingParty;
    advisor?: Advisor;
  }
}

/** The token of an `Authorization: Bearer …` header (the scheme's name is case-insensitive, RFC 9110 §11.1). */
export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h || h.length < 7 || h.slice(0, 7).toLowerCase() !== 'bearer ') return null;
  return h.slice(7).trim();
}

function bearer(req: FastifyRequest, prefix: string): string | null {
  const token = bearerToken(req);
  return token && token.startsWith(`${prefix}_`) && token.length < 200 ? token : null;
}

/**
 * API keys are looked up once per 10 s per key, not on every request (the hot path is a few queries);
 * a revoked key therefore stops working within 10 s.
 */
const KEY_CACHE_MS = 10_000;

export function requireRelyingParty(s: Services) {
  const cache = new Map<string, { rp: RelyingParty | null; at: number }>();
  const lookup = async (key: string) => {
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < KEY_CACHE_MS) return hit.rp;
    const rp = await relyingPartyByKey(s.db, key);
    if (cache.size > 1000) cache.clear();
    // Unknown keys are not cached: guessing must not fill memory.
    if (rp) cache.set(key, { rp, at: Date.now() });
    return rp;
  };
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const key = bearer(req, 'sk');
    const rp = key ? await lookup(key) : null;
    if (!rp) throw new Unauthorized('A valid relying-party API key is required (Authorization: Bearer sk_…).');
    req.rp = rp;
  };
}

export function requireAdvisor(s: Services) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const token = bearer(req, 'adv');
    const advisor = token ? await advisorByToken(s.db, token) : null;
    if (!advisor) throw new Unauthorized('A valid advisor token is required (Authorization: Bearer adv_…).');
    req.advisor = advisor;
  };
}
