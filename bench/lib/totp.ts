import { createHmac } from 'node:crypto';

/**
 * RFC 6238 TOTP (SHA-1, 6 digits, 30 s) computed in the load generator with node:crypto: cheaper than
 * otpauth, so the client spends its CPU on sending requests.
 */
export const PERIOD = 30;

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(s: string): Buffer {
  const clean = s.replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const idx = B32.indexOf(ch);
    if (idx < 0) throw new Error(`bad base32 character "${ch}"`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function codeAt(key: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeUInt32BE(Math.floor(step / 2 ** 32), 0);
  counter.writeUInt32BE(step >>> 0, 4);
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(bin).padStart(6, '0');
}

export const stepOf = (ms: number) => Math.floor(ms / 1000 / PERIOD);

/**
 * The server accepts steps current−1 … current+1 (window 1), each strictly after the last one used.
 * A code computed now must still be accepted when the server checks it, up to `SLACK_MS` later (under
 * load a login waits for argon2 before its TOTP is checked): so the lowest safe step is
 * step(now + slack) − 1, and the highest step(now) + 1.
 */
export const SLACK_MS = 10_000;

export function usableStep(lastUsed: number, nowMs: number, slackMs = SLACK_MS): number | null {
  const lo = Math.max(lastUsed + 1, stepOf(nowMs + slackMs) - 1);
  return lo <= stepOf(nowMs) + 1 ? lo : null;
}
