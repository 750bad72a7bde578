import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readOutVoiceScript, keypadVoiceScript } from '../../src/channels/templates.js';
import { renderVoiceScript } from '../../src/channels/twiml.js';
import {
  createTwilioProvider,
  mapTwilioStatusCallback,
  validateTwilioSignature,
  voiceWebhookStep,
  type TwilioOptions,
} from '../../src/channels/twilio.js';
import { asE164, DeliveryError } from '../../src/channels/types.js';
import type { OperationData } from '../../src/core/operations.js';

// A local Twilio-compatible API: records each request, answers with what the test says.
interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  form: URLSearchParams;
}
type Reply = { status: number; body: unknown } | 'hang';
let requests: Recorded[] = [];
let reply: (r: Recorded) => Reply = () => ({ status: 201, body: { sid: 'SM0001', status: 'queued' } });
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method!, path: req.url!, headers: req.headers, form: new URLSearchParams(raw) };
      requests.push(rec);
      const r = reply(rec);
      if (r === 'hang') return; // never answers: the client's timeout must fire
      res.writeHead(r.status, { 'content-type': typeof r.body === 'string' ? 'text/html' : 'application/json' });
      res.end(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  reply = () => ({ status: 201, body: { sid: 'SM0001', status: 'queued' } });
});

const SID = 'AC00000000000000000000000000000001';
const TOKEN = 'test-auth-token';
const options = (extra: Partial<TwilioOptions> = {}): TwilioOptions => ({
  accountSid: SID,
  authToken: TOKEN,
  baseUrl,
  from: '+33757000000',
  timeoutMs: 2000,
  ...extra,
});
const to = asE164('+33612345678');
const payment: OperationData = { type: 'payment', amount: { value: 25000, currency: 'EUR' }, payee: { name: 'Boulangerie Martin' } };
const SMS_TEXT = 'Code 482913 pour confirmer : paiement de 250,00 € à Boulangerie Martin.';

async function sendError(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DeliveryError);
    return e as DeliveryError;
  }
  throw new Error('expected a DeliveryError');
}

describe('Twilio SMS', () => {
  it('posts the documented form to Messages.json with Basic auth', async () => {
    const provider = createTwilioProvider(options({ smsStatusCallbackUrl: 'https://sesame.example/hooks/twilio' }));
    const receipt = await provider.send({ kind: 'sms', to, text: SMS_TEXT }, { idempotencyKey: 'outbox-1' });
    expect(receipt).toEqual({ providerId: 'SM0001', status: 'queued' });
    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.headers['idempotency-key']).toBe('outbox-1');
    expect(Object.fromEntries(r.form)).toEqual({
      To: '+33612345678',
      From: '+33757000000',
      Body: SMS_TEXT,
      StatusCallback: 'https://sesame.example/hooks/twilio',
    });
  });

  it('uses the Messaging Service instead of From when configured, and the message callback over the default', async () => {
    const provider = createTwilioProvider(
      options({ from: undefined, messagingServiceSid: 'MG123', smsStatusCallbackUrl: 'https://default' }),
    );
    await provider.send({ kind: 'sms', to, text: 'x', statusCallbackUrl: 'https://specific' }, { idempotencyKey: 'k' });
    const form = requests[0]!.form;
    expect(form.get('MessagingServiceSid')).toBe('MG123');
    expect(form.has('From')).toBe(false);
    expect(form.get('StatusCallback')).toBe('https://specific');
  });

  it('21614 (not a mobile number) is undeliverable, so the caller can offer a voice call; the code is not in the error', async () => {
    reply = (r) => ({
      status: 400,
      // A compatible API that echoes the body back: it must not reach our error message.
      body: { code: 21614, message: `'To' number is not a valid mobile number (body: ${r.form.get('Body')})`, status: 400 },
    });
    const err = await sendError(createTwilioProvider(options()).send({ kind: 'sms', to, text: SMS_TEXT }, { idempotencyKey: 'k' }));
    expect(err).toMatchObject({
      undeliverable: true,
      retryable: false,
      providerCode: '21614',
      code: 'ERR_DELIVERY_UNDELIVERABLE',
      channel: 'sms',
    });
    expect(err.message).toContain('21614');
    expect(err.message).not.toContain('482913');
    expect(err.message).not.toContain('Boulangerie');
    expect(JSON.stringify(err.details)).not.toContain('482913');
  });

  it('500 and 429 are retryable; another 4xx is not', async () => {
    const provider = createTwilioProvider(options());
    reply = () => ({ status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    expect(await sendError(provider.send({ kind: 'sms', to, text: SMS_TEXT }, { idempotencyKey: 'k' }))).toMatchObject({
      retryable: true,
      undeliverable: false,
    });
    reply = () => ({ status: 502, body: '<html>Bad gateway</html>' });
    expect(await sendError(provider.send({ kind: 'sms', to, text: SMS_TEXT }, { idempotencyKey: 'k' }))).toMatchObject({ retryable: true });
    reply = () => ({ status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } });
    expect(await sendError(provider.send({ kind: 'sms', to, text: SMS_TEXT }, { idempotencyKey: 'k' }))).toMatchObject({ retryable: true });
    reply = () => ({ status: 401, body: { code: 20003, message: 'Authenticate', status: 401 } });
    expect(await sendError(provider.send({ kind: 'sms', to, text: SMS_TEXT }, { idempotencyKey: 'k' }))).toMatchObject({
      retryable: false,
      undeliverable: false,
      providerCode: '20003',
    });
  });

  it('a request that gets no answer in time is retryable', async () => {
    reply = () => 'hang';
    const err = await sendError(
      createTwilioProvider(options({ timeoutMs: 200 })).send({ kind: 'sms', to, text: SMS_TEXT }, { idempotencyKey: 'k' }),
    );
    expect(err).toMatchObject({ retryable: true, undeliverable: false });
    expect(err.message).toContain('no answer within 200 ms');
    expect(err.message).not.toContain('482913');
  });

  it('a refused connection is retryable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const err = await sendError(
      createTwilioProvider(options({ baseUrl: `http://127.0.0.1:${port}` })).send(
        { kind: 'sms', to, text: SMS_TEXT },
        { idempotencyKey: 'k' },
      ),
    );
    expect(err).toMatchObject({ retryable: true });
  });
});

describe('Twilio voice', () => {
  it('a read-out call fetches its TwiML from answerUrl, with status events and synchronous machine detection', async () => {
    reply = () => ({ status: 201, body: { sid: 'CA0001', status: 'queued' } });
    const script = readOutVoiceScript({ locale: 'fr', operation: payment, code: '482913', ttlSeconds: 300 });
    const receipt = await createTwilioProvider(options({ machineDetection: 'async' })).send(
      { kind: 'voice', to, script, answerUrl: 'https://sesame.example/voice/c1', statusCallbackUrl: 'https://sesame.example/voice/status' },
      { idempotencyKey: 'k' },
    );
    expect(receipt).toEqual({ providerId: 'CA0001', status: 'queued' });
    const r = requests[0]!;
    expect(r.path).toBe(`/2010-04-01/Accounts/${SID}/Calls.json`);
    expect(r.form.get('To')).toBe('+33612345678');
    expect(r.form.get('From')).toBe('+33757000000');
    expect(r.form.get('Url')).toBe('https://sesame.example/voice/c1');
    expect(r.form.get('Method')).toBe('POST');
    expect(r.form.has('Twiml')).toBe(false);
    expect(r.form.get('StatusCallback')).toBe('https://sesame.example/voice/status');
    expect(r.form.getAll('StatusCallbackEvent')).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    // Asynchronous detection would let the code start playing before the verdict: read-out stays synchronous.
    expect(r.form.get('MachineDetection')).toBe('Enable');
    expect(r.form.has('AsyncAmd')).toBe(false);
    // The code is not in the API request at all.
    expect(r.form.toString()).not.toContain('482913');
  });

  it('refuses a read-out call with inline TwiML: a voicemail would hear the code', async () => {
    const script = readOutVoiceScript({ locale: 'fr', operation: payment, code: '482913', ttlSeconds: 300 });
    const err = await sendError(createTwilioProvider(options()).send({ kind: 'voice', to, script }, { idempotencyKey: 'k' }));
    expect(err).toMatchObject({ retryable: false, undeliverable: false });
    expect(err.message).toMatch(/answerUrl/);
    expect(requests).toHaveLength(0);
  });

  it('a keypad call may carry inline TwiML, with asynchronous machine detection when configured', async () => {
    reply = () => ({ status: 201, body: { sid: 'CA0002', status: 'queued' } });
    const script = keypadVoiceScript({ locale: 'en', operation: payment, codeLength: 6, actionUrl: 'https://sesame.example/voice/k' });
    await createTwilioProvider(
      options({ machineDetection: 'async', voiceFrom: '+33757000001', voiceStatusCallbackUrl: 'https://cb' }),
    ).send({ kind: 'voice', to, script }, { idempotencyKey: 'k' });
    const form = requests[0]!.form;
    expect(form.get('From')).toBe('+33757000001');
    expect(form.get('Twiml')).toMatch(
      /^<\?xml.*<Gather input="dtmf" numDigits="6" finishOnKey="#" action="https:\/\/sesame.example\/voice\/k"/,
    );
    expect(form.get('MachineDetection')).toBe('Enable');
    expect(form.get('AsyncAmd')).toBe('true');
    expect(form.get('AsyncAmdStatusCallback')).toBe('https://cb');
  });

  it('no machine detection when turned off', async () => {
    reply = () => ({ status: 201, body: { sid: 'CA0003', status: 'queued' } });
    const script = readOutVoiceScript({ locale: 'en', operation: payment, code: '482913', ttlSeconds: 300 });
    await createTwilioProvider(options({ machineDetection: 'off' })).send(
      { kind: 'voice', to, script, answerUrl: 'https://a' },
      { idempotencyKey: 'k' },
    );
    expect(requests[0]!.form.has('MachineDetection')).toBe(false);
    expect(requests[0]!.form.has('StatusCallback')).toBe(false);
  });

  it('maps a call error to DeliveryError without the TwiML (which may hold data) in the message', async () => {
    reply = (r) => ({ status: 400, body: { code: 13224, message: `Invalid phone number. Twiml=${r.form.get('Twiml')}`, status: 400 } });
    const script = keypadVoiceScript({ locale: 'en', operation: payment, codeLength: 6 });
    const err = await sendError(createTwilioProvider(options()).send({ kind: 'voice', to, script }, { idempotencyKey: 'k' }));
    expect(err).toMatchObject({ undeliverable: true, channel: 'voice' });
    expect(err.message).not.toContain('Boulangerie');
  });

  it('tells the answer URL which part to play: machine, answer, repeat on 1, the keys in keypad mode', () => {
    const readOut = readOutVoiceScript({ locale: 'fr', operation: payment, code: '482913', ttlSeconds: 300 });
    expect(voiceWebhookStep(readOut, { CallSid: 'CA1', AnsweredBy: 'machine_end_beep' })).toEqual({ part: 'machine' });
    expect(voiceWebhookStep(readOut, { CallSid: 'CA1', AnsweredBy: 'fax' })).toEqual({ part: 'machine' });
    expect(voiceWebhookStep(readOut, { CallSid: 'CA1', AnsweredBy: 'human' })).toEqual({ part: 'answer' });
    // Detection undecided, or not reported: the code waits for a key.
    expect(voiceWebhookStep(readOut, { CallSid: 'CA1', AnsweredBy: 'unknown' })).toEqual({ part: 'unsure' });
    expect(voiceWebhookStep(readOut, { CallSid: 'CA1' })).toEqual({ part: 'unsure' });
    const unsure = renderVoiceScript(readOut, 'unsure');
    expect(unsure).toContain('<Gather');
    expect(unsure).not.toMatch(/4, 8, 2, 9, 1, 3/);
    expect(renderVoiceScript(readOut, 'repeat')).toMatch(/4, 8, 2, 9, 1, 3/);
    expect(voiceWebhookStep(readOut, { CallSid: 'CA1', Digits: '1' })).toEqual({ part: 'repeat' });
    expect(voiceWebhookStep(readOut, { CallSid: 'CA1', Digits: '7' })).toEqual({ part: 'goodbye' });
    const keypad = keypadVoiceScript({ locale: 'fr', operation: payment, codeLength: 6 });
    expect(voiceWebhookStep(keypad, { CallSid: 'CA1', Digits: '123456#' })).toEqual({ dtmf: '123456' });
  });
});

describe('validateTwilioSignature', () => {
  // Twilio's own example (twilio-python tests/unit/test_request_validator.py, and the request-validation
  // snippet of twilio-node in TwilioDevEd/api-snippets): auth token 12345, this URL and these POST
  // parameters are signed RSOYDt4T1cUTdK1PDd93/VVr8B8=.
  const authToken = '12345';
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };

  it("accepts Twilio's documented example", () => {
    expect(validateTwilioSignature({ authToken, url, params, signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' })).toBe(true);
  });

  it('refuses the example with one parameter tampered, added or removed, or with another URL or token', () => {
    const signature = 'RSOYDt4T1cUTdK1PDd93/VVr8B8=';
    expect(validateTwilioSignature({ authToken, url, params: { ...params, Digits: '1235' }, signature })).toBe(false);
    expect(validateTwilioSignature({ authToken, url, params: { ...params, Extra: 'x' }, signature })).toBe(false);
    const { Caller: _caller, ...withoutCaller } = params;
    expect(validateTwilioSignature({ authToken, url, params: withoutCaller, signature })).toBe(false);
    expect(validateTwilioSignature({ authToken, url: url.replace('bar=2', 'bar=3'), params, signature })).toBe(false);
    expect(validateTwilioSignature({ authToken: '12346', url, params, signature })).toBe(false);
  });

  it('refuses a missing, empty, truncated or differently sized signature without throwing', () => {
    for (const signature of [undefined, '', 'RSOYDt4T1cUTdK1PDd93/VVr8B8', 'RSOYDt4T1cUTdK1PDd93/VVr8B8==', 'x'.repeat(1000)]) {
      expect(validateTwilioSignature({ authToken, url, params, signature })).toBe(false);
    }
  });

  it("handles repeated parameters and ports as Twilio's libraries do (their test vectors)", () => {
    // Same source: repeated names are signed with their values sorted.
    const repeated = { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234'] };
    expect(validateTwilioSignature({ authToken, url, params: repeated, signature: 'IK+Dwps556ElfBT0I3Rgjkr1wJU=' })).toBe(true);
    // A URL with a port also validates against the signature of the URL without it, and the other way round.
    expect(
      validateTwilioSignature({ authToken, url: url.replace('.com', '.com:1234'), params, signature: 'RSOYDt4T1cUTdK1PDd93/VVr8B8=' }),
    ).toBe(true);
    expect(validateTwilioSignature({ authToken, url, params, signature: 'kvajT1Ptam85bY51eRf/AJRuM3w=' })).toBe(true); // signed with :443
    const http = url.replace('https', 'http');
    expect(validateTwilioSignature({ authToken, url: http, params, signature: '0ZXoZLH/DfblKGATFgpif+LLRf4=' })).toBe(true); // signed with :80
    expect(
      validateTwilioSignature({ authToken, url: http.replace('.com', '.com:1234'), params, signature: 'Zmvh+3yNM1Phv2jhDCwEM3q5ebU=' }),
    ).toBe(true);
  });
});

describe('mapTwilioStatusCallback', () => {
  it('maps message statuses', () => {
    expect(mapTwilioStatusCallback({ MessageSid: 'SM1', MessageStatus: 'sent' })).toEqual({
      providerId: 'SM1',
      status: 'sent',
      detail: 'MessageStatus=sent',
    });
    expect(mapTwilioStatusCallback({ MessageSid: 'SM1', MessageStatus: 'delivered' })?.status).toBe('delivered');
    expect(mapTwilioStatusCallback({ MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30006' })).toEqual({
      providerId: 'SM1',
      status: 'undelivered',
      detail: 'MessageStatus=undelivered ErrorCode=30006',
    });
    expect(mapTwilioStatusCallback({ SmsSid: 'SM1', SmsStatus: 'failed' })?.status).toBe('failed');
    expect(mapTwilioStatusCallback({ MessageSid: 'SM1', MessageStatus: 'received' })).toBeNull();
  });

  it('maps call statuses, a voicemail or fax being "machine" whatever the call status', () => {
    const call = (p: Record<string, string>) => mapTwilioStatusCallback({ CallSid: 'CA1', ...p })?.status;
    expect(call({ CallStatus: 'initiated' })).toBe('queued');
    expect(call({ CallStatus: 'ringing' })).toBe('sent');
    expect(call({ CallStatus: 'in-progress' })).toBe('answered');
    expect(call({ CallStatus: 'completed' })).toBe('delivered');
    expect(call({ CallStatus: 'busy' })).toBe('busy');
    expect(call({ CallStatus: 'no-answer' })).toBe('no-answer');
    expect(call({ CallStatus: 'failed' })).toBe('failed');
    expect(call({ CallStatus: 'completed', AnsweredBy: 'machine_start' })).toBe('machine');
    expect(call({ CallStatus: 'in-progress', AnsweredBy: 'machine_end_silence' })).toBe('machine');
    expect(call({ AnsweredBy: 'fax' })).toBe('machine');
    expect(call({ AnsweredBy: 'human' })).toBe('answered');
    expect(call({ CallStatus: 'completed', AnsweredBy: 'unknown' })).toBe('delivered');
    expect(mapTwilioStatusCallback({ Foo: 'bar' })).toBeNull();
  });
});
