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

function bearer(req: FastifyRequest, prefix: string): string | null {
  const h = req.headers.authorization;
  if (!h || !h.startsWith('Bearer ')) return null;
  const token = h.slice(7).trim();
  return token.startsWith(`${prefix}_`) && token.length < 200 ? token : null;
}

export function requireRelyingParty(s: Services) {
  return async (req: FastifyRequest, _reply: FastifyReply) => {
    const key = bearer(req, 'sk');
    const rp = key ? await relyingPartyByKey(s.db, key) : null;
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
