import { createHash, createHmac } from 'node:crypto';
import { SesameError } from '../../core/errors.js';
import { safeEqual } from '../../crypto/tokens.js';

/**
 * Pure OCRA building blocks (RFC 6287, OATH challenge-response): OCRASuite parsing, response
 * generation and verification, and a numeric challenge derived from an operation's link hash so a
 * challenge-response token signs the operation itself. No database here: the caller persists the
 * returned counter or time step so a response works once.
 */

export type OcraHash = 'SHA1' | 'SHA256' | 'SHA512';
/** Challenge format: A alphanumeric (bytes as typed), N decimal number, H hexadecimal. */
export type OcraQuestionFormat = 'A' | 'N' | 'H';

export interface OcraSuite {
  /** The suite string exactly as parsed: it is part of the HMAC input. */
  readonly text: string;
  readonly hash: OcraHash;
  /** Response length in decimal digits; 0 means no truncation (the full HMAC, in hex). */
  readonly digits: number;
  /** `C`: an 8-byte counter is part of the input. */
  readonly counter: boolean;
  /** `QFxx`: the challenge format and its maximum length in characters (04–64). */
  readonly question: { readonly format: OcraQuestionFormat; readonly maxLength: number };
  /** `PSHAx`: the hash of the PIN/password that is part of the input, or null. */
  readonly passwordHash: OcraHash | null;
  /** `Snnn`: length in bytes of the session information, or null. */
  readonly sessionLength: number | null;
  /** `TG`: seconds per time step, or null. */
  readonly timeStep: number | null;
}

/** The OCRASuite string is not one RFC 6287 §6 allows. The message names the faulty part. */
export class OcraSuiteError extends SesameError {
  constructor(message: string) {
    super('ERR_OCRA_SUITE', 422, message);
  }
}

/** The inputs do not fit the suite (missing counter, malformed challenge, wrong PIN hash length…). */
export class OcraInputError extends SesameError {
  constructor(message: string) {
    super('ERR_OCRA_INPUT', 422, message);
  }
}

const HASH_BYTES: Record<OcraHash, number> = { SHA1: 20, SHA256: 32, SHA512: 64 };
const UNIT_SECONDS = { S: 1, M: 60, H: 3600 } as const;
const UNIT_MAX = { S: 59, M: 59, H: 48 } as const;
const MAX_DRIFT = 100;
const MAX_LOOK_AHEAD = 1_000;

/**
 * Parses an OCRASuite (RFC 6287 §6): `OCRA-1:HOTP-SHA{1,256,512}-{0,4..10}:[C-]Q{A,N,H}{04..64}[-PSHA{1,256,512}][-Snnn][-T{n}{S,M,H}]`.
 * Case-sensitive on purpose: the suite string is hashed verbatim, so `ocra-1:…` would give other responses.
 *
 * @example
 * parseOcraSuite('OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1');
 * // { text: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1', hash: 'SHA256', digits: 8, counter: true,
 * //   question: { format: 'N', maxLength: 8 }, passwordHash: 'SHA1', sessionLength: null, timeStep: null }
 */
export function parseOcraSuite(text: string): OcraSuite {
  if (typeof text !== 'string') throw new OcraSuiteError('The OCRASuite must be a string.');
  const parts = text.split(':');
  if (parts.length !== 3) throw new OcraSuiteError('An OCRASuite has three parts: Algorithm:CryptoFunction:DataInput.');
  const [algorithm, cryptoFunction, dataInput] = parts as [string, string, string];
  if (algorithm !== 'OCRA-1') throw new OcraSuiteError(`Unsupported OCRA version "${algorithm}" (only OCRA-1 exists).`);

  const cf = /^HOTP-SHA(1|256|512)-(\d{1,2})$/.exec(cryptoFunction);
  if (!cf) throw new OcraSuiteError(`Invalid CryptoFunction "${cryptoFunction}" (expected HOTP-SHA1|SHA256|SHA512-digits).`);
  const digits = Number(cf[2]);
  if (digits !== 0 && (digits < 4 || digits > 10)) throw new OcraSuiteError(`Invalid truncation "${cf[2]}" (0 or 4 to 10 digits).`);

  const fields = dataInput.split('-');
  let i = 0;
  const counter = fields[i] === 'C';
  if (counter) i++;

  const q = /^Q([ANH])(\d{2})$/.exec(fields[i] ?? '');
  if (!q)
    throw new OcraSuiteError(`The DataInput must have a challenge QFxx (F = A, N or H; xx = 04 to 64) ${counter ? 'after C' : 'first'}.`);
  const maxLength = Number(q[2]);
  if (maxLength < 4 || maxLength > 64) throw new OcraSuiteError(`Invalid challenge length "${q[2]}" (04 to 64).`);
  i++;

  let passwordHash: OcraHash | null = null;
  const p = /^PSHA(1|256|512)$/.exec(fields[i] ?? '');
  if (p) {
    passwordHash = `SHA${p[1]}` as OcraHash;
    i++;
  } else if (fields[i]?.startsWith('P')) {
    throw new OcraSuiteError(`Invalid password hash "${fields[i]}" (PSHA1, PSHA256 or PSHA512).`);
  }

  let sessionLength: number | null = null;
  const s = /^S(\d{3})$/.exec(fields[i] ?? '');
  if (s) {
    sessionLength = Number(s[1]);
    if (sessionLength < 1 || sessionLength > 512) throw new OcraSuiteError(`Invalid session length "${s[1]}" (001 to 512 bytes).`);
    i++;
  } else if (fields[i]?.startsWith('S')) {
    throw new OcraSuiteError(`Invalid session information "${fields[i]}" (Snnn, three digits).`);
  }

  let timeStep: number | null = null;
  const t = /^T(\d{1,2})([SMH])$/.exec(fields[i] ?? '');
  if (t) {
    const n = Number(t[1]);
    const unit = t[2] as keyof typeof UNIT_SECONDS;
    if (n < 1 || n > UNIT_MAX[unit]) throw new OcraSuiteError(`Invalid time step "${fields[i]}" (1–59 S, 1–59 M or 1–48 H).`);
    timeStep = n * UNIT_SECONDS[unit];
    i++;
  } else if (fields[i]?.startsWith('T')) {
    throw new OcraSuiteError(`Invalid time step "${fields[i]}" (e.g. T30S, T1M, T1H).`);
  }

  if (i !== fields.length) {
    throw new OcraSuiteError(`Unexpected DataInput element "${fields[i]}" (order: C, QFxx, PSHAx, Snnn, TG).`);
  }
  const hash = `SHA${cf[1]}` as OcraHash;
  return {
    text,
    hash,
    digits,
    counter,
    question: { format: q[1] as OcraQuestionFormat, maxLength },
    passwordHash,
    sessionLength,
    timeStep,
  };
}

export interface OcraInput {
  suite: string | OcraSuite;
  key: Buffer;
  /** Required by `C` suites. */
  counter?: number;
  /**
   * The challenge as the customer types it, in the suite's format. For mutual challenge-response give
   * both challenges in order (`[client, server]` or `[server, client]`): they are concatenated
   * (RFC 6287 §7.3), each at most `xx` characters.
   */
  question: string | readonly string[];
  /** Required by `PSHAx` suites: the hash of the PIN (see `ocraPasswordHash`), not the PIN. */
  passwordHash?: Buffer;
  /** Required by `Snnn` suites: exactly nnn bytes. */
  sessionInfo?: Buffer;
  /** Required by `T` suites: the time whose step is signed. */
  timestamp?: Date;
}

/**
 * The OCRA response (RFC 6287 §5.2): HMAC over OCRASuite ‖ 00 ‖ C ‖ Q ‖ P ‖ S ‖ T, truncated as in HOTP.
 *
 * @example
 * generateOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: Buffer.from('12345678901234567890'), question: '00000000' });
 * // '237653'
 */
export function generateOcra(input: OcraInput): string {
  const suite = typeof input.suite === 'string' ? parseOcraSuite(input.suite) : input.suite;
  const fixed = fixedInputs(suite, input);
  const step = suite.timeStep === null ? null : timeStepAt(suite, required(input.timestamp, 'timestamp', suite));
  const counter = suite.counter ? checkCounter(required(input.counter, 'counter', suite)) : null;
  return compute(suite, input.key, fixed, counter, step);
}

export type OcraVerification = { ok: true; nextCounter?: number; timeStep?: number } | { ok: false };

/**
 * Checks a response in constant time. `C` suites try counters `counter … counter + counterLookAhead`
 * and return `nextCounter` (matched + 1) to persist; `T` suites try steps within ±`timeDrift` of
 * `timestamp` and return the matched `timeStep` (store it to refuse a replay within the same step).
 *
 * @example
 * const v = verifyOcra({ suite, key, question: challenge, response: '65347737', counter: 0, counterLookAhead: 5 });
 * if (v.ok) await saveCounter(token.id, v.nextCounter);
 */
export function verifyOcra(input: OcraInput & { response: string; timeDrift?: number; counterLookAhead?: number }): OcraVerification {
  const suite = typeof input.suite === 'string' ? parseOcraSuite(input.suite) : input.suite;
  const drift = checkWindow('timeDrift', input.timeDrift ?? 0, MAX_DRIFT);
  const lookAhead = checkWindow('counterLookAhead', input.counterLookAhead ?? 0, MAX_LOOK_AHEAD);
  const fixed = fixedInputs(suite, input);
  const steps = suite.timeStep === null ? [null] : around(timeStepAt(suite, required(input.timestamp, 'timestamp', suite)), drift);
  const first = suite.counter ? checkCounter(required(input.counter, 'counter', suite)) : null;
  const counters = first === null ? [null] : Array.from({ length: lookAhead + 1 }, (_, k) => first + k);
  // Malformed responses are refused before any HMAC.
  if (typeof input.response !== 'string') return { ok: false };
  const response = suite.digits === 0 ? input.response.toLowerCase() : input.response;
  const shape = suite.digits === 0 ? new RegExp(`^[0-9a-f]{${2 * HASH_BYTES[suite.hash]}}$`) : new RegExp(`^[0-9]{${suite.digits}}$`);
  if (!shape.test(response)) return { ok: false };

  let found: { counter: number | null; step: number | null } | null = null;
  // Every candidate is checked (no early exit) so the time taken does not say which one matched.
  for (const counter of counters) {
    for (const step of steps) {
      if (safeEqual(compute(suite, input.key, fixed, counter, step), response) && found === null) found = { counter, step };
    }
  }
  if (found === null) return { ok: false };
  return {
    ok: true,
    ...(found.counter !== null && { nextCounter: found.counter + 1 }),
    ...(found.step !== null && { timeStep: found.step }),
  };
}

/**
 * The PIN hash a `PSHAx` suite expects (RFC 6287 §5.1: the hash of the PIN's bytes).
 *
 * @example
 * ocraPasswordHash('SHA1', '1234').toString('hex'); // '7110eda4d09e062aa5e4a390b0a572ac0d2c0220'
 */
export function ocraPasswordHash(hash: OcraHash, password: string): Buffer {
  return createHash(hash.toLowerCase()).update(password, 'utf8').digest();
}

/** The time step a `T` suite signs at `now`: whole steps since the Unix epoch. */
export function ocraTimeStep(suite: string | OcraSuite, now: Date): number {
  const s = typeof suite === 'string' ? parseOcraSuite(suite) : suite;
  if (s.timeStep === null) throw new OcraInputError(`The suite ${s.text} has no time step.`);
  return timeStepAt(s, now);
}

/**
 * A numeric challenge bound to an operation: `SHA-256(linkHash)` read as a big-endian integer,
 * mod 10^digits, zero-padded.
 *
 * Why: a challenge-response token (CAP-reader-like, keypad only) can sign nothing but the digits the
 * customer types. Deriving those digits from the operation's link hash (amount, payee… see
 * `core/dynamic-linking.ts`) makes the response a MAC over the operation (RTS art. 5 dynamic
 * linking): a response given for one operation is refused for another, and the server re-derives the
 * challenge from the stored operation instead of trusting one sent back by the browser. A 256-bit
 * value mod 10^d is uniform to within 10^d / 2^256 (negligible for d ≤ 64), so no challenge value is
 * likelier than another. The short space (10^8 for 8 digits) is why the challenge must be used with
 * a single-use response and as many digits as the reader accepts.
 *
 * @example
 * ocraChallengeFromLinkHash(operation.linkHash, 8); // e.g. '04719385'
 */
export function ocraChallengeFromLinkHash(linkHashBase64url: string, digits: number): string {
  if (!Number.isInteger(digits) || digits < 4 || digits > 64) throw new RangeError('Challenge digits must be a whole number from 4 to 64.');
  if (typeof linkHashBase64url !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(linkHashBase64url)) {
    throw new RangeError('The link hash must be a base64url SHA-256 (43 characters).');
  }
  const digest = createHash('sha256').update(Buffer.from(linkHashBase64url, 'base64url')).digest('hex');
  return (BigInt(`0x${digest}`) % 10n ** BigInt(digits)).toString().padStart(digits, '0');
}

/** The inputs that do not vary between candidates: suite, question, password hash, session. */
interface FixedInputs {
  question: Buffer;
  password: Buffer | null;
  session: Buffer | null;
}

function fixedInputs(suite: OcraSuite, input: OcraInput): FixedInputs {
  if (!Buffer.isBuffer(input.key) || input.key.length === 0) throw new OcraInputError('The OCRA key must be a non-empty Buffer.');
  let password: Buffer | null = null;
  if (suite.passwordHash !== null) {
    password = required(input.passwordHash, 'passwordHash', suite);
    if (password.length !== HASH_BYTES[suite.passwordHash]) {
      throw new OcraInputError(`The password hash must be ${HASH_BYTES[suite.passwordHash]} bytes (${suite.passwordHash}).`);
    }
  }
  let session: Buffer | null = null;
  if (suite.sessionLength !== null) {
    session = required(input.sessionInfo, 'sessionInfo', suite);
    if (session.length !== suite.sessionLength)
      throw new OcraInputError(`The session information must be exactly ${suite.sessionLength} bytes.`);
  }
  return { question: encodeQuestion(suite, input.question), password, session };
}

/**
 * Q is 128 bytes (RFC 6287 §5.1): the challenge's bytes, then zeros. N challenges are turned into
 * their hex value, and hex strings of odd length get a trailing 0 (as the RFC's reference code does).
 */
function encodeQuestion(suite: OcraSuite, question: string | readonly string[]): Buffer {
  const parts = typeof question === 'string' ? [question] : question;
  if (parts.length < 1 || parts.length > 2) throw new OcraInputError('Give one challenge, or two for mutual challenge-response.');
  const { format, maxLength } = suite.question;
  const pattern = format === 'N' ? /^[0-9]+$/ : format === 'H' ? /^[0-9A-Fa-f]+$/ : /^[\x21-\x7e]+$/;
  for (const part of parts) {
    if (typeof part !== 'string' || part.length > maxLength || !pattern.test(part)) {
      throw new OcraInputError(`Each challenge must be 1 to ${maxLength} ${FORMAT_NAMES[format]} characters.`);
    }
  }
  const joined = parts.join('');
  let bytes: Buffer;
  if (format === 'A') {
    bytes = Buffer.from(joined, 'latin1');
  } else {
    const hex = format === 'N' ? BigInt(joined).toString(16) : joined;
    bytes = Buffer.from(hex.length % 2 === 1 ? `${hex}0` : hex, 'hex');
  }
  if (bytes.length > 128) throw new OcraInputError('The challenge does not fit the 128 bytes of Q.');
  const q = Buffer.alloc(128);
  bytes.copy(q);
  return q;
}

const FORMAT_NAMES: Record<OcraQuestionFormat, string> = { A: 'printable ASCII', N: 'decimal', H: 'hexadecimal' };

function compute(suite: OcraSuite, key: Buffer, fixed: FixedInputs, counter: number | null, step: number | null): string {
  const mac = createHmac(suite.hash.toLowerCase(), key);
  mac.update(suite.text, 'latin1').update(Buffer.of(0));
  if (counter !== null) mac.update(uint64(counter));
  mac.update(fixed.question);
  if (fixed.password) mac.update(fixed.password);
  if (fixed.session) mac.update(fixed.session);
  if (step !== null) mac.update(uint64(step));
  const hmac = mac.digest();
  if (suite.digits === 0) return hmac.toString('hex');
  // RFC 4226 §5.3 dynamic truncation, as RFC 6287 §5.2 prescribes.
  const offset = hmac[hmac.length - 1]! & 0x0f;
  const binary = hmac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** suite.digits).toString().padStart(suite.digits, '0');
}

function uint64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

function timeStepAt(suite: OcraSuite, now: Date): number {
  const ms = now.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new OcraInputError('The timestamp must be a valid date after 1970.');
  return Math.floor(ms / 1000 / suite.timeStep!);
}

function around(step: number, drift: number): number[] {
  const steps: number[] = [];
  for (let s = step - drift; s <= step + drift; s++) if (s >= 0) steps.push(s);
  return steps;
}

function checkCounter(counter: number): number {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new OcraInputError('The OCRA counter must be a whole number ≥ 0.');
  return counter;
}

function checkWindow(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`OCRA ${name} must be a whole number from 0 to ${max}.`);
  return value;
}

function required<T>(value: T | undefined, name: string, suite: OcraSuite): T {
  if (value === undefined || value === null) throw new OcraInputError(`The suite ${suite.text} needs ${name}.`);
  return value;
}
