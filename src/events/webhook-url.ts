import { InvalidRequest } from '../core/errors.js';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Where a relying party's events may be delivered, in its normalised form. A URL that could never be
 * fetched (no host, a port out of range) is refused now rather than failing every delivery later; one
 * with credentials too, since the URL is stored and audited in clear (the HMAC signature is what
 * authenticates deliveries). In production events carry customer data, so they leave the machine only
 * over https.
 */
export function checkedWebhookUrl(text: string, mode: 'development' | 'production'): string {
  const refuse = (why: string) => new InvalidRequest('ERR_VALIDATION', `url ${why}.`, { field: 'url' });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('is not an absolute URL with a valid host and port');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be http or https');
  if (url.username || url.password) throw refuse('must not carry credentials: deliveries are authenticated by their signature');
  if (url.port === '0') throw refuse('must not use port 0');
  // An empty fragment ("…#") leaves no hash but is a fragment all the same.
  if (url.hash || url.href.endsWith('#')) throw refuse('must not have a fragment');
  if (mode === 'production' && url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    throw refuse('must be https in production (http only to this machine)');
  }
  return url.href;
}
