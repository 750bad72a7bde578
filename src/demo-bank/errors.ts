import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SesameApiError, SesameUnavailableError } from './sesame-client.js';

/**
 * Errors of the demo bank's own API, rendered as problem+json for its page. Sésame's problems are
 * relayed with their stable code and the few members the page needs (remaining attempts, block), never
 * with more: the page must be able to say "2 attempts left" or "blocked until 10:15", nothing else.
 */
export class BankError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown>;
  constructor(status: number, code: string, title: string, extra: Record<string, unknown> = {}) {
    super(title);
    this.name = 'BankError';
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

/** Members of Sésame's problems that the page may show. */
const RELAYED_MEMBERS = [
  'remainingAttempts',
  'nextBlockPermanent',
  'blockedUntil',
  'permanent',
  'remainingTries',
  'offer',
  'reason',
] as const;

/** Sésame problems that mean "the bank is misconfigured", not "the customer did something wrong". */
const UPSTREAM_CODES = new Set(['ERR_UNAUTHORIZED', 'ERR_FORBIDDEN']);

export function renderBankError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toProblem(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'demo bank: request failed');
  return reply
    .status(problem.status)
    .type('application/problem+json')
    .send({ type: 'about:blank', ...problem });
}

function toProblem(error: FastifyError | Error): { status: number; code: string; title: string } & Record<string, unknown> {
  if (error instanceof BankError) {
    return { status: error.status, code: error.code, title: error.message, ...error.extra };
  }
  if (error instanceof SesameApiError) {
    if (error.status >= 500 || UPSTREAM_CODES.has(error.code)) {
      return { status: 502, code: 'ERR_UPSTREAM', title: 'The authentication service refused the bank’s request.' };
    }
    const relayed: Record<string, unknown> = {};
    for (const k of RELAYED_MEMBERS) if (k in error.details) relayed[k] = error.details[k];
    return { status: error.status, code: error.code, title: error.detail ?? error.title, ...relayed };
  }
  if (error instanceof SesameUnavailableError) {
    return { status: 503, code: 'ERR_UNAVAILABLE', title: 'The authentication service is unreachable. Please try again.' };
  }
  const fe = error as FastifyError;
  if (fe.validation) return { status: 400, code: 'ERR_INVALID_REQUEST', title: 'The request is not valid.' };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: fe.code ?? 'ERR_INVALID_REQUEST', title: fe.message };
  }
  return { status: 500, code: 'ERR_INTERNAL', title: 'Something went wrong.' };
}
