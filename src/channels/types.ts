import { SesameError } from '../core/errors.js';

/**
 * The one delivery interface of Sésame: SMS, voice calls and email go through a `DeliveryProvider`,
 * whichever company (or the dev outbox) carries them. Journeys build a message, send it with an
 * idempotency key (the outbox row id), and react to `DeliveryError.undeliverable` (e.g. offer a voice call
 * when the number is a landline) or `retryable` (try again later).
 */

/** A phone number in E.164 (`+33612345678`). Obtain one from `parsePhone()` or `asE164()`. */
export type E164 = string & { readonly __e164: unique symbol };

const E164_FORMAT = /^\+[1-9]\d{1,14}$/;

/**
 * Brands a string that is already in E.164 (e.g. read back from the database). It checks the format only;
 * use `parsePhone()` on anything a person typed.
 *
 * @example
 * const to = asE164(row.secure_phone);
 */
export function asE164(value: string): E164 {
  if (!E164_FORMAT.test(value)) throw new TypeError('Expected a phone number in E.164 format (+ and up to 15 digits).');
  return value as E164;
}

export type VoiceLanguage = 'fr-FR' | 'en-GB';

/** What a voice call says and listens for. Rendered to TwiML for Twilio, or played by the dev outbox. */
export type VoiceSegment =
  | { type: 'say'; text: string }
  /** A code, read digit by digit (the renderer separates the digits so they are spoken slowly). */
  | { type: 'digits'; digits: string }
  | { type: 'pause'; seconds: number }
  | VoiceGather
  | { type: 'hangup' };

/** Waits for keys. With no input before `timeoutSeconds`, the call goes on with the segments that follow. */
export interface VoiceGather {
  type: 'gather';
  /** `repeat`: a key replays the code (read-out mode); `code`: the keys are a code to verify (keypad mode). */
  purpose: 'repeat' | 'code';
  numDigits?: number;
  finishOnKey?: string;
  timeoutSeconds: number;
  /** Where the provider posts the keys (Twilio `action`); without it, Twilio posts to the document's URL. */
  action?: string;
  /** Said while waiting (keys interrupt it). */
  prompt: Array<Extract<VoiceSegment, { type: 'say' | 'pause' | 'digits' }>>;
}

/**
 * A whole call. `read-out` says the code (`answer`, then `repeat` each time the person presses the repeat
 * key); `keypad` asks the person to type the code shown on their screen. `machine` is what an answering
 * machine gets: it never contains the code.
 */
export interface VoiceScript {
  mode: 'read-out' | 'keypad';
  language: VoiceLanguage;
  answer: VoiceSegment[];
  /** Read-out mode: the key that replays the code, and what is then said. */
  repeat?: { key: string; segments: VoiceSegment[] };
  /**
   * Read-out mode: for an answer not known to be a person's (answering-machine detection undecided, or
   * none): the operation, then the code only after the repeat key.
   */
  unsure?: VoiceSegment[];
  machine: VoiceSegment[];
  /** Said when an unexpected key is pressed. */
  goodbye: VoiceSegment[];
}

export interface SmsMessage {
  kind: 'sms';
  to: E164;
  text: string;
  statusCallbackUrl?: string;
}

export interface VoiceMessage {
  kind: 'voice';
  to: E164;
  script: VoiceScript;
  statusCallbackUrl?: string;
  /** Where the provider fetches the call's instructions when answered (required to treat answering machines apart). */
  answerUrl?: string;
}

export interface EmailMessage {
  kind: 'email';
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export type DeliveryMessage = SmsMessage | VoiceMessage | EmailMessage;
export type Channel = DeliveryMessage['kind'];

export interface DeliveryReceipt {
  /** The provider's id of the message or call (Twilio SID, SMTP Message-ID, dev outbox id). */
  providerId: string;
  status: 'queued' | 'sent' | 'delivered';
}

export interface SendOptions {
  /** Stable across retries of the same message (the outbox row id): a provider that supports it sends once. */
  idempotencyKey: string;
}

export interface DeliveryProvider {
  send(message: DeliveryMessage, options: SendOptions): Promise<DeliveryReceipt>;
}

export const DELIVERY_STATUSES = [
  'queued',
  'sent',
  'delivered',
  'failed',
  'undelivered',
  'answered',
  'no-answer',
  'busy',
  'machine',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a provider reports later (Twilio status callback, dev outbox simulation). */
export interface DeliveryStatusUpdate {
  providerId: string;
  status: DeliveryStatus;
  detail?: string;
}

/**
 * A message that was not handed over. `retryable`: the same message may succeed later (timeout, 429, 5xx).
 * `undeliverable`: this channel can never reach this recipient (landline for SMS, unknown mailbox), so the
 * caller should offer another channel. The message never contains what was being sent (it holds a code).
 */
export class DeliveryError extends SesameError {
  readonly retryable: boolean;
  readonly undeliverable: boolean;
  readonly channel: Channel;
  /** The provider's own error code (Twilio `21614`, SMTP `550`), when it gave one. */
  readonly providerCode: string | undefined;
  constructor(
    channel: Channel,
    message: string,
    options: { retryable: boolean; undeliverable?: boolean; providerCode?: string | number; cause?: unknown },
  ) {
    const undeliverable = options.undeliverable ?? false;
    super(
      undeliverable ? 'ERR_DELIVERY_UNDELIVERABLE' : 'ERR_DELIVERY_FAILED',
      undeliverable ? 422 : options.retryable ? 503 : 502,
      message,
      {
        channel,
        retryable: options.retryable,
        undeliverable,
        ...(options.providerCode !== undefined ? { providerCode: String(options.providerCode) } : {}),
      },
    );
    this.retryable = options.retryable;
    this.undeliverable = undeliverable;
    this.channel = channel;
    this.providerCode = options.providerCode === undefined ? undefined : String(options.providerCode);
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * Removes what was being sent (and any code in it) from a provider's error text before it goes into an
 * error message or a log: some providers echo the request back.
 */
export function redactSecrets(text: string, sent: string[]): string {
  let out = text;
  const secrets = new Set<string>();
  for (const s of sent) {
    if (s.length >= 4) secrets.add(s);
    for (const digits of s.match(/\d{4,}/g) ?? []) secrets.add(digits);
  }
  // Longest first, so a code inside a longer text does not leave pieces of the text behind.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join('[redacted]');
  return out;
}
