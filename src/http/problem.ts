import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SesameError } from '../core/errors.js';
import type { AllowedMethods } from './allowed-methods.js';

/**
 * Every error leaves the server once, here, as RFC 9457 `application/problem+json`: a stable `code`,
 * a human `detail`, and for malformed input the `field` at fault. Nothing a user sends can produce a
 * 500; an unexpected error is logged (without the request body) and answered generically.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Invalid request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Request body too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  423: 'Locked',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal error',
  503: 'Service unavailable',
};

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  // Extensions first: they can never overwrite the members RFC 9457 defines.
  return {
    ...extra,
    type: `urn:sesame:problem:${code.replace(/^ERR_/, '').toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

/** PostgreSQL's SQLSTATEs for a transaction it rolled back to let a concurrent one through. */
const DEADLOCK = '40P01';
const SERIALIZATION_FAILURE = '40001';

export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof SesameError) return sendProblem(reply, problem(err.status, err.code, err.message, err.details));
    if (err.validation) {
      const v = err.validation[0]!;
      const params = v.params as Record<string, unknown>;
      const child = (params.missingProperty ?? params.additionalProperty ?? '') as string;
      const where = (err.validationContext ?? 'body') + (v.instancePath ?? '') + (child ? `/${child}` : '');
      const detail = params.additionalProperty
        ? `${where} is not an accepted field.`
        : params.missingProperty
          ? `${where} is required.`
          : `${where} ${v.message ?? 'is invalid'}.`;
      return sendProblem(reply, problem(400, 'ERR_VALIDATION', detail, { field: where.replace(/^body\//, '') }));
    }
    const status = err.statusCode ?? 500;
    if (status === 413) return sendProblem(reply, problem(413, 'ERR_BODY_TOO_LARGE', 'The request body is too large.'));
    if (status === 415) return sendProblem(reply, problem(415, 'ERR_MEDIA_TYPE', 'Send the body as application/json.'));
    if (status === 429) return sendProblem(reply, problem(429, 'ERR_RATE_LIMITED', 'Too many requests; slow down.'));
    if (status >= 400 && status < 500) {
      const detail =
        err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? 'The body is not valid JSON.' : err.message;
      return sendProblem(reply, problem(status, status === 400 ? 'ERR_MALFORMED' : 'ERR_REQUEST', detail));
    }
    if (err.code === DEADLOCK || err.code === SERIALIZATION_FAILURE) {
      // PostgreSQL chose this transaction to give way to another on the same rows: it was rolled back
      // whole, so the request can simply be sent again.
      req.log.warn({ code: err.code }, 'transaction rolled back by the database to resolve a conflict');
      return sendProblem(
        reply.header('retry-after', '1'),
        problem(409, 'ERR_CONCURRENT_CHANGE', 'Another request changed the same data at the same moment; nothing was changed: try again.'),
      );
    }
    req.log.error({ err: { message: err.message, stack: err.stack, code: err.code } }, 'unexpected error');
    return sendProblem(reply, problem(500, 'ERR_INTERNAL', 'An unexpected error occurred; nothing was changed.'));
  });
}

/** A 404 for a path no route answers. */
export function noRoute(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, problem(404, 'ERR_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`));
}

export type NoRouteHandler = (req: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** The answer when no route matched: 405 with `Allow` if the path exists for other methods, else 404. */
export function noRouteFor(allowed: AllowedMethods): NoRouteHandler {
  return (req, reply) => {
    const path = req.url.split('?')[0]!;
    const methods = allowed.of(path);
    // A route that matched and found nothing (a missing static file) is a 404 too.
    if (methods.length === 0 || methods.includes(req.method)) return noRoute(req, reply);
    return sendProblem(
      reply.header('allow', methods.join(', ')),
      problem(405, 'ERR_METHOD_NOT_ALLOWED', `${path} does not answer ${req.method}; it answers ${methods.join(', ')}.`),
    );
  };
}
