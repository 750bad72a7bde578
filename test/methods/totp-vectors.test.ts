import { HOTP, Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { codeAtStep, matchTotp, stepAt, type TotpAlgorithm } from '../../src/methods/totp/totp.js';

// RFC 4226 Appendix D: HOTP-SHA1, 6 digits, secret "12345678901234567890".
const RFC4226_SECRET = Secret.fromLatin1('12345678901234567890').base32;
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

// RFC 6238 Appendix B: 8 digits, 30 s, one ASCII seed per algorithm (20/32/64 bytes).
const SEEDS: Record<TotpAlgorithm, string> = {
  SHA1: Secret.fromLatin1('12345678901234567890').base32,
  SHA256: Secret.fromLatin1('12345678901234567890123456789012').base32,
  SHA512: Secret.fromLatin1('1234567890123456789012345678901234567890123456789012345678901234').base32,
};
const RFC6238: [seconds: number, sha1: string, sha256: string, sha512: string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];
const ROWS = RFC6238.flatMap(([t, ...codes]) =>
  (['SHA1', 'SHA256', 'SHA512'] as const).map((algorithm, i) => ({ t, algorithm, code: codes[i]! })),
);

describe('RFC 4226 Appendix D (HOTP)', () => {
  it.each(RFC4226.map((code, counter) => ({ counter, code })))('counter $counter gives $code', ({ counter, code }) => {
    expect(codeAtStep({ secretBase32: RFC4226_SECRET, algorithm: 'SHA1', digits: 6 }, counter)).toBe(code);
    expect(HOTP.generate({ secret: Secret.fromBase32(RFC4226_SECRET), counter })).toBe(code);
  });
});

describe('RFC 6238 Appendix B (TOTP)', () => {
  it.each(ROWS)('$algorithm at T=$t gives $code', ({ t, algorithm, code }) => {
    const secretBase32 = SEEDS[algorithm];
    const step = stepAt(new Date(t * 1000), 30);
    expect(codeAtStep({ secretBase32, algorithm, digits: 8 }, step)).toBe(code);
    expect(TOTP.generate({ secret: Secret.fromBase32(secretBase32), algorithm, digits: 8, period: 30, timestamp: t * 1000 })).toBe(code);
  });

  it.each(ROWS)('matchTotp accepts the $algorithm code $code at T=$t with window 0', ({ t, algorithm, code }) => {
    const now = new Date(t * 1000);
    const m = matchTotp({ secretBase32: SEEDS[algorithm], algorithm, digits: 8, period: 30, code, now, window: 0, lastUsedStep: null });
    expect(m).toEqual({ ok: true, step: Math.floor(t / 30) });
  });
});
