import { Secret } from 'otpauth';
import { parseOcraSuite, type OcraSuite } from '../ocra/ocra.js';
import { TokenImportError, type TokenAlgorithm, type TokenSeed } from './pskc.js';

/**
 * Import of token seeds from a simple CSV, for vendors that ship no PSKC:
 *
 *     serial,secret,type,digits[,extra]
 *
 * `secret` is hex or base32 (prefix `hex:` or `base32:` to force one); `type` is hotp, totp or ocra;
 * `extra` is the HOTP counter (default 0), the TOTP period in seconds (default 30) or the OCRA suite
 * (required). The import is all or nothing: every bad line is reported by number, and no message
 * ever quotes a secret.
 */

/** One refused line: its number in the file (1 = header) and why. */
export interface CsvLineError {
  line: number;
  reason: string;
}

/**
 * Reads every line after the header; throws `TokenImportError` (`ERR_TOKEN_CSV`, `details.lines`)
 * listing every bad line.
 *
 * @example
 * importTokenCsv('serial,secret,type,digits,extra\nA1,3132333435363738393031323334353637383930,hotp,6,0\n');
 * // [{ serial: 'A1', algorithm: 'hotp', secret: <Buffer 31 32 …>, digits: 6, counter: 0 }]
 */
export function importTokenCsv(csv: string): TokenSeed[] {
  const lines = csv.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex === -1 || fields(lines[headerIndex]!)[0]?.toLowerCase() !== 'serial') {
    throw new TokenImportError('ERR_TOKEN_CSV', 'The first line must be the header "serial,secret,type,digits[,extra]".', {
      lines: [{ line: headerIndex + 1 || 1, reason: 'missing header' }],
    });
  }

  const seeds: TokenSeed[] = [];
  const errors: CsvLineError[] = [];
  const seen = new Map<string, number>();
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const result = readLine(fields(line));
    if (typeof result === 'string') {
      errors.push({ line: i + 1, reason: result });
      continue;
    }
    const first = seen.get(result.serial);
    if (first !== undefined) {
      errors.push({ line: i + 1, reason: `serial repeats line ${first}` });
      continue;
    }
    seen.set(result.serial, i + 1);
    seeds.push(result);
  }
  if (errors.length > 0) {
    const list = errors.map((e) => `line ${e.line}: ${e.reason}`).join('; ');
    throw new TokenImportError('ERR_TOKEN_CSV', `${errors.length} line(s) could not be read: ${list}.`, { lines: errors });
  }
  return seeds;
}

function fields(line: string): string[] {
  return line.split(',').map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
}

/** A seed, or the reason the line is refused (never containing the secret). */
function readLine(f: string[]): TokenSeed | string {
  if (f.length < 4 || f.length > 5) return `expected 4 or 5 fields, found ${f.length}`;
  const [serial, secretText, typeText, digitsText, extra] = f as [string, string, string, string, string | undefined];
  if (serial === '' || serial.length > 128) return 'serial must be 1 to 128 characters';
  const secret = decodeSecret(secretText);
  if (typeof secret === 'string') return secret;
  const type = typeText.toLowerCase();
  if (type !== 'hotp' && type !== 'totp' && type !== 'ocra') return 'type must be hotp, totp or ocra';
  if (!/^[0-9]{1,2}$/.test(digitsText)) return 'digits must be a number';
  const digits = Number(digitsText);
  const seed: TokenSeed = { serial, algorithm: type as TokenAlgorithm, secret, digits };

  if (type === 'ocra') {
    let suite: OcraSuite;
    try {
      suite = parseOcraSuite(extra ?? '');
    } catch (err) {
      return extra ? (err as Error).message : 'an OCRA token needs its suite in the fifth field';
    }
    if (suite.digits !== digits) return `digits (${digits}) disagree with the OCRA suite (${suite.digits})`;
    seed.ocraSuite = suite.text;
    if (suite.counter) seed.counter = 0;
    if (suite.timeStep !== null) seed.timeStep = suite.timeStep;
    return seed;
  }
  if (digits < 6 || digits > 10) return 'digits must be from 6 to 10';
  if (extra !== undefined && extra !== '' && !/^[0-9]{1,15}$/.test(extra)) {
    return type === 'hotp' ? 'counter must be a whole number ≥ 0' : 'period must be a whole number of seconds';
  }
  const n = extra ? Number(extra) : undefined;
  if (type === 'hotp') seed.counter = n ?? 0;
  else {
    if (n !== undefined && (n < 1 || n > 3600)) return 'period must be from 1 to 3600 seconds';
    seed.timeStep = n ?? 30;
  }
  return seed;
}

/** Hex when the text is whole hex bytes, base32 otherwise (a random base32 seed is almost never pure hex). */
function decodeSecret(text: string): Buffer | string {
  const forced = /^(hex|base32):(.*)$/i.exec(text);
  const kind = forced ? forced[1]!.toLowerCase() : /^(?:[0-9a-fA-F]{2})+$/.test(text) ? 'hex' : 'base32';
  const value = forced ? forced[2]!.trim() : text;
  if (kind === 'hex') {
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(value)) return 'secret is not valid hex';
    return Buffer.from(value, 'hex');
  }
  const b32 = value.replace(/[\s=]/g, '').toUpperCase();
  if (!/^[A-Z2-7]+$/.test(b32)) return 'secret is neither hex nor base32';
  const bytes = Secret.fromBase32(b32).bytes;
  if (bytes.length === 0) return 'secret is empty';
  return Buffer.from(bytes);
}
