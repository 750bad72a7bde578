import { MIMEType } from 'node:util';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequest, SesameError } from '../core/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received, on routes that keep it (a device signature covers its digest). */
    rawBody?: string;
  }
}

/**
 * Fatal: bytes that are not UTF-8 are refused, not silently replaced by U+FFFD. A byte order mark stays in
 * the text (the JSON parser skips it), so that the text kept is the body as signed.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The declared charset, lower case, read as WHATWG does (not inside another parameter's quoted value). */
function charsetOf(contentType: string): string | undefined {
  // No parameter at all, as clients mostly send it: nothing to parse on every request.
  if (!contentType.includes(';')) return undefined;
  try {
    return new MIMEType(contentType).params.get('charset')?.toLowerCase() ?? undefined;
  } catch {
    return undefined; // Fastify matched it to this parser; nothing declared that we can read.
  }
}

/**
 * The body of a JSON request as text, exactly as sent: JSON is UTF-8 (RFC 8259 §8.1), so another declared
 * charset is a 415 and bytes that do not decode are a 400, instead of text changed on its way in.
 */
function decodeJsonBody(req: FastifyRequest, body: Buffer): string {
  const charset = charsetOf(req.headers['content-type'] ?? '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw new SesameError('ERR_MEDIA_TYPE', 415, `Send the body as application/json in UTF-8, not ${charset.slice(0, 40)}.`);
  try {
    return UTF8.decode(body);
  } catch {
    throw new InvalidRequest('ERR_MALFORMED', 'The body is not valid UTF-8.');
  }
}

/**
 * Replaces the JSON parser of `app` (and its children) by the strict one. `keepRaw` also keeps the decoded
 * text on the request, for routes whose signature covers the body as sent.
 */
export function parseJsonStrictly(app: FastifyInstance, opts: { keepRaw?: boolean } = {}): void {
  // Fastify's own parser, for its empty-body and prototype-poisoning checks.
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = decodeJsonBody(req, body as Buffer);
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    if (opts.keepRaw) req.rawBody = text;
    parse(req, text, done);
  });
}
