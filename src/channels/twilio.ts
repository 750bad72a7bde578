import { ConfigError } from '../core/errors.js';
import { renderVoiceScript } from './twiml.js';
import {
  DeliveryError,
  redactSecrets,
  type Channel,
  type DeliveryMessage,
  type DeliveryProvider,
  type DeliveryReceipt,
  type SendOptions,
  type SmsMessage,
  type VoiceMessage,
  type VoiceScript,
} from './types.js';

/**
 * SMS and voice calls through a Twilio-compatible REST API (Twilio itself by default). Plain `fetch`, form
 * encoding and HTTP Basic auth, as the API documents; no SDK. What Twilio sends back (signed webhooks,
 * status callbacks, a call's answer URL) is handled in twilio-webhooks.ts, re-exported here.
 */

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** Default https://api.twilio.com. */
  baseUrl?: string;
  /** Sender: an E.164 number (needed for calls) or, for SMS, an alphanumeric sender id. */
  from?: string;
  /** For SMS, a Messaging Service instead of `from`. */
  messagingServiceSid?: string;
  /** Caller id of voice calls; default `from`. */
  voiceFrom?: string;
  smsStatusCallbackUrl?: string;
  voiceStatusCallbackUrl?: string;
  /**
   * Answering-machine detection. `enable` (default): Twilio waits for the verdict before the call's
   * instructions are fetched, with `AnsweredBy`, so a voicemail never hears the code. `async` starts
   * talking at once and reports later: it is only used for keypad calls, which say no code. With
   * `off`, or a verdict of `unknown`, a read-out call asks for a key before it reads the code.
   */
  machineDetection?: 'enable' | 'async' | 'off';
  /** Twilio voice name per language (see `DEFAULT_VOICES` in twiml.ts). */
  voices?: { 'fr-FR'?: string; 'en-GB'?: string };
  /** Per request; default 10 000 ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Twilio error codes meaning "this channel can never reach this number" (so offer another one). */
const UNDELIVERABLE_CODES = new Set([
  13224, // Calls: invalid phone number
  21211, // Invalid 'To' phone number
  21214, // 'To' phone number cannot be reached
  21217, // Phone number does not appear to be valid
  21401, // Invalid phone number
  21407, // This phone number type does not support SMS
  21610, // The recipient replied STOP
  21612, // 'To' number is not currently reachable by SMS
  21614, // 'To' number is not a valid mobile number
  21635, // 'To' number cannot be a landline
]);
const RATE_LIMITED = 20429;

/**
 * @example
 * const twilio = createTwilioProvider({ accountSid: 'AC…', authToken, from: '+33757000000' });
 * await twilio.send({ kind: 'sms', to, text }, { idempotencyKey: outboxId });
 */
export function createTwilioProvider(options: TwilioOptions): DeliveryProvider {
  if (!options.accountSid || !options.authToken) throw new ConfigError('Twilio needs an account SID and an auth token.');
  if (!options.from && !options.messagingServiceSid) {
    throw new ConfigError('Twilio needs a sender: a "from" number or a Messaging Service SID.');
  }
  const base = (options.baseUrl ?? 'https://api.twilio.com').replace(/\/+$/, '');
  try {
    new URL(base);
  } catch {
    throw new ConfigError(`The Twilio API base URL "${base}" is not a URL.`);
  }
  return new TwilioProvider(options, base);
}

class TwilioProvider implements DeliveryProvider {
  private readonly authorization: string;
  constructor(
    private readonly o: TwilioOptions,
    private readonly base: string,
  ) {
    this.authorization = `Basic ${Buffer.from(`${o.accountSid}:${o.authToken}`).toString('base64')}`;
  }

  async send(message: DeliveryMessage, options: SendOptions): Promise<DeliveryReceipt> {
    if (message.kind === 'sms') return this.post('sms', 'Messages.json', this.smsForm(message), [message.text], options);
    if (message.kind === 'voice') {
      const { form, secrets } = this.callForm(message);
      return this.post('voice', 'Calls.json', form, secrets, options);
    }
    throw new DeliveryError(message.kind, 'The Twilio provider does not send email.', { retryable: false });
  }

  private smsForm(m: SmsMessage): URLSearchParams {
    const form = new URLSearchParams({ To: m.to, Body: m.text });
    if (this.o.messagingServiceSid) form.set('MessagingServiceSid', this.o.messagingServiceSid);
    else form.set('From', this.o.from!);
    const callback = m.statusCallbackUrl ?? this.o.smsStatusCallbackUrl;
    if (callback) form.set('StatusCallback', callback);
    return form;
  }

  private callForm(m: VoiceMessage): { form: URLSearchParams; secrets: string[] } {
    const from = this.o.voiceFrom ?? this.o.from;
    if (!from) throw new DeliveryError('voice', 'Twilio voice calls need a caller id ("voiceFrom" or "from").', { retryable: false });
    const detection = this.o.machineDetection ?? 'enable';
    if (m.script.mode === 'read-out' && !m.answerUrl) {
      // Inline TwiML runs whoever picks up; only a fetched URL learns `AnsweredBy` in time to withhold the code.
      throw new DeliveryError(
        'voice',
        'A read-out voice call needs an answerUrl: inline TwiML cannot tell an answering machine from a person, and a code must never be left on a voicemail.',
        { retryable: false },
      );
    }
    const form = new URLSearchParams({ To: m.to, From: from });
    const secrets: string[] = [];
    if (m.answerUrl) {
      form.set('Url', m.answerUrl);
      form.set('Method', 'POST');
    } else {
      const twiml = renderVoiceScript(m.script, 'answer', this.voiceFor(m.script));
      form.set('Twiml', twiml);
      secrets.push(twiml);
    }
    const callback = m.statusCallbackUrl ?? this.o.voiceStatusCallbackUrl;
    if (callback) {
      form.set('StatusCallback', callback);
      form.set('StatusCallbackMethod', 'POST');
      for (const event of ['initiated', 'ringing', 'answered', 'completed']) form.append('StatusCallbackEvent', event);
    }
    if (detection !== 'off') {
      form.set('MachineDetection', 'Enable');
      // A read-out call must wait for the verdict: asynchronous detection would let the code start playing.
      if (detection === 'async' && m.script.mode === 'keypad') {
        form.set('AsyncAmd', 'true');
        if (callback) {
          form.set('AsyncAmdStatusCallback', callback);
          form.set('AsyncAmdStatusCallbackMethod', 'POST');
        }
      }
    }
    return { form, secrets };
  }

  private voiceFor(script: VoiceScript): { voice?: string } {
    const voice = this.o.voices?.[script.language];
    return voice ? { voice } : {};
  }

  private async post(
    channel: Channel,
    resource: string,
    form: URLSearchParams,
    secrets: string[],
    options: SendOptions,
  ): Promise<DeliveryReceipt> {
    const url = `${this.base}/2010-04-01/Accounts/${encodeURIComponent(this.o.accountSid)}/${resource}`;
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    const what = channel === 'sms' ? 'SMS' : 'voice call';
    let res: Response;
    try {
      res = await (this.o.fetch ?? fetch)(url, {
        method: 'POST',
        headers: {
          authorization: this.authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          // Twilio itself ignores it; compatible APIs that deduplicate use it, and it is harmless elsewhere.
          'idempotency-key': options.idempotencyKey,
        },
        body: form.toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const name = (e as Error).name;
      const reason = name === 'TimeoutError' || name === 'AbortError' ? `no answer within ${timeoutMs} ms` : 'network error';
      throw new DeliveryError(channel, `Twilio ${what} request failed: ${reason}.`, { retryable: true, cause: e });
    }
    const body = await res.text();
    let json: { sid?: unknown; status?: unknown; code?: unknown; message?: unknown } = {};
    try {
      json = JSON.parse(body) as typeof json;
    } catch {
      // A proxy's HTML error page: the HTTP status is all we have.
    }
    if (res.ok) {
      if (typeof json.sid !== 'string' || !json.sid) {
        throw new DeliveryError(channel, `Twilio ${what} request: the response has no sid (HTTP ${res.status}).`, { retryable: false });
      }
      return { providerId: json.sid, status: receiptStatus(json.status) };
    }
    const code = typeof json.code === 'number' || typeof json.code === 'string' ? Number(json.code) : undefined;
    const detail = typeof json.message === 'string' ? `: ${redactSecrets(json.message, secrets).slice(0, 300)}` : '';
    const undeliverable = code !== undefined && UNDELIVERABLE_CODES.has(code);
    const retryable = !undeliverable && (res.status === 429 || code === RATE_LIMITED || res.status >= 500);
    throw new DeliveryError(
      channel,
      `Twilio refused the ${what}: HTTP ${res.status}${code !== undefined ? `, error ${code}` : ''}${detail}`,
      {
        retryable,
        undeliverable,
        ...(code !== undefined ? { providerCode: code } : {}),
      },
    );
  }
}

function receiptStatus(status: unknown): DeliveryReceipt['status'] {
  if (status === 'sending' || status === 'sent') return 'sent';
  if (status === 'delivered') return 'delivered';
  return 'queued';
}

export * from './twilio-webhooks.js';
