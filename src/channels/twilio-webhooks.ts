import { createHmac, timingSafeEqual } from 'node:crypto';
import { partForKeys, type VoiceScriptPart } from './twiml.js';
import type { DeliveryStatus, DeliveryStatusUpdate, VoiceScript } from './types.js';

/**
 * What Twilio (or a compatible API) sends back to Sésame: signed webhooks, status callbacks, and the
 * requests of a call to its answer URL and gather action.
 */

export type TwilioParams = Record<string, string | readonly string[]>;

/**
 * Twilio's request signature (`X-Twilio-Signature`): the full URL, then each POST parameter sorted by name
 * as name + value (a repeated name: its values sorted), HMAC-SHA1 with the auth token, base64.
 */
export function twilioSignature(authToken: string, url: string, params: TwilioParams = {}): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key]!;
    const values = typeof value === 'string' ? [value] : [...value].sort();
    for (const v of values) data += key + v;
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/**
 * Checks that a webhook (status callback, gather) comes from Twilio. `url` is the URL Twilio called, as
 * configured (scheme, host, path and query): behind a proxy, rebuild it from the public URL, not from the
 * request. Like Twilio's own libraries, a URL is also tried without its port and with the default port.
 *
 * @example
 * if (!validateTwilioSignature({ authToken, url: publicUrl + req.url, params: req.body, signature: req.headers['x-twilio-signature'] }))
 *   return reply.code(403).send();
 */
export function validateTwilioSignature(input: {
  authToken: string;
  url: string;
  params?: TwilioParams;
  signature: string | undefined;
}): boolean {
  if (!input.signature) return false;
  const given = Buffer.from(input.signature);
  let valid = false;
  for (const url of urlVariants(input.url)) {
    const expected = Buffer.from(twilioSignature(input.authToken, url, input.params ?? {}));
    // Every variant is compared (no early exit), each in constant time.
    if (expected.length === given.length && timingSafeEqual(expected, given)) valid = true;
  }
  return valid;
}

/** The URL as given, without its port, and with the scheme's default port. String surgery, not `new URL()`, which would re-encode the query. */
function urlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  const port = /:(\d+)$/.exec(hostPort);
  const host = port ? hostPort.slice(0, -port[0].length) : hostPort;
  const withoutPort = `${scheme}://${userinfo}${host}${rest}`;
  const withDefaultPort = `${scheme}://${userinfo}${host}:${scheme.toLowerCase() === 'https' ? 443 : 80}${rest}`;
  return [...new Set([url, withoutPort, port ? url : withDefaultPort])];
}

const MESSAGE_STATUSES: Record<string, DeliveryStatus> = {
  accepted: 'queued',
  queued: 'queued',
  scheduled: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

const CALL_STATUSES: Record<string, DeliveryStatus> = {
  queued: 'queued',
  initiated: 'queued',
  ringing: 'sent',
  'in-progress': 'answered',
  // The call ended after being picked up (by a person, unless `AnsweredBy` says otherwise).
  completed: 'delivered',
  busy: 'busy',
  'no-answer': 'no-answer',
  failed: 'failed',
  canceled: 'failed',
};

/** `machine_start`, `machine_end_beep`, `machine_end_silence`, `machine_end_other`, `fax`. */
export function isMachineAnswer(answeredBy: string | undefined): boolean {
  return !!answeredBy && (answeredBy.startsWith('machine') || answeredBy === 'fax');
}

/**
 * Maps the parameters of a Twilio status callback (message or call, including asynchronous answering
 * machine detection) to a delivery status; null for what is not about a message we sent.
 *
 * @example
 * mapTwilioStatusCallback({ CallSid: 'CA1', CallStatus: 'completed', AnsweredBy: 'machine_end_beep' });
 * // { providerId: 'CA1', status: 'machine', detail: 'CallStatus=completed AnsweredBy=machine_end_beep' }
 */
export function mapTwilioStatusCallback(params: Record<string, string | undefined>): DeliveryStatusUpdate | null {
  const detail = ['MessageStatus', 'CallStatus', 'AnsweredBy', 'ErrorCode']
    .filter((k) => params[k])
    .map((k) => `${k}=${params[k]}`)
    .join(' ');
  const messageSid = params.MessageSid ?? params.SmsSid;
  const messageStatus = params.MessageStatus ?? params.SmsStatus;
  if (messageSid && messageStatus) {
    const status = MESSAGE_STATUSES[messageStatus];
    return status ? { providerId: messageSid, status, ...(detail ? { detail } : {}) } : null;
  }
  const callSid = params.CallSid;
  if (!callSid) return null;
  let status: DeliveryStatus | undefined;
  if (isMachineAnswer(params.AnsweredBy)) status = 'machine';
  else if (params.CallStatus) status = CALL_STATUSES[params.CallStatus];
  else if (params.AnsweredBy === 'human') status = 'answered';
  return status ? { providerId: callSid, status, ...(detail ? { detail } : {}) } : null;
}

/**
 * What to do with a request Twilio makes to a call's `answerUrl` or gather action: which part of the
 * script to play, or (keypad mode) the keys to verify.
 *
 * @example
 * const step = voiceWebhookStep(script, req.body);
 * if ('part' in step) reply.type('text/xml').send(renderVoiceScript(script, step.part));
 */
export function voiceWebhookStep(
  script: VoiceScript,
  params: Record<string, string | undefined>,
): { part: VoiceScriptPart } | { dtmf: string } {
  if (isMachineAnswer(params.AnsweredBy)) return { part: 'machine' };
  const digits = params.Digits;
  // Only an answer detected as a person's hears the code at once; `unknown` (or no detection) must press a key.
  if (digits === undefined) return { part: params.AnsweredBy === 'human' ? 'answer' : 'unsure' };
  if (script.mode === 'keypad') return { dtmf: digits.replace(/#$/, '') };
  return { part: partForKeys(script, digits) };
}
