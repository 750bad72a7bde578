import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hotpCode, matchHotp, resyncHotp } from '../../src/methods/hotp/hotp.js';

// RFC 4226 Appendix D: HOTP-SHA1, 6 digits, secret "12345678901234567890" (ASCII).
const SECRET = Buffer.from('12345678901234567890', 'latin1');
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
const token = { secret: SECRET, digits: 6 };

describe('RFC 4226 Appendix D through matchHotp', () => {
  it.each(RFC4226.map((code, counter) => ({ counter, code })))(
    'counter $counter accepts $code and moves to the next counter',
    ({ counter, code }) => {
      expect(hotpCode(token, counter)).toBe(code);
      expect(matchHotp({ ...token, code, counter, lookAhead: 0 })).toEqual({ ok: true, nextCounter: counter + 1 });
    },
  );
});

describe('look-ahead window', () => {
  it('accepts a code a few presses ahead, within the window', () => {
    expect(matchHotp({ ...token, code: RFC4226[4]!, counter: 0, lookAhead: 4 })).toEqual({ ok: true, nextCounter: 5 });
  });

  it('refuses a code one press beyond the window', () => {
    expect(matchHotp({ ...token, code: RFC4226[5]!, counter: 0, lookAhead: 4 })).toEqual({ ok: false });
  });

  it('refuses a code from before the expected counter (already used or skipped)', () => {
    expect(matchHotp({ ...token, code: RFC4226[2]!, counter: 3, lookAhead: 5 })).toEqual({ ok: false });
  });

  it('never accepts a code twice: after a match the stored counter is past it', () => {
    const first = matchHotp({ ...token, code: RFC4226[3]!, counter: 1, lookAhead: 5 });
    expect(first).toEqual({ ok: true, nextCounter: 4 });
    const replay = matchHotp({ ...token, code: RFC4226[3]!, counter: first.ok ? first.nextCounter : -1, lookAhead: 5 });
    expect(replay).toEqual({ ok: false });
  });

  it('also skips the codes it jumped over: an earlier, unused code is refused after a later one', () => {
    const m = matchHotp({ ...token, code: RFC4226[6]!, counter: 0, lookAhead: 9 });
    expect(m).toEqual({ ok: true, nextCounter: 7 });
    expect(matchHotp({ ...token, code: RFC4226[5]!, counter: 7, lookAhead: 9 })).toEqual({ ok: false });
  });

  it.each(['', '75522', '7552244', ' 755224', '755224 ', '75522a', '７５５２２４', '-55224'])(
    'refuses the malformed code %j before any work',
    (code) => {
      expect(matchHotp({ ...token, code, counter: 0, lookAhead: 10 })).toEqual({ ok: false });
    },
  );

  it('refuses nonsense parameters loudly', () => {
    expect(() => matchHotp({ ...token, code: '755224', counter: -1, lookAhead: 0 })).toThrow(RangeError);
    expect(() => matchHotp({ ...token, code: '755224', counter: 0.5, lookAhead: 0 })).toThrow(RangeError);
    expect(() => matchHotp({ ...token, code: '755224', counter: 0, lookAhead: -1 })).toThrow(RangeError);
    expect(() => matchHotp({ ...token, code: '755224', counter: 0, lookAhead: 1_000_000 })).toThrow(RangeError);
    expect(() => matchHotp({ ...token, digits: 5, code: '55224', counter: 0, lookAhead: 0 })).toThrow(RangeError);
    expect(() => matchHotp({ secret: Buffer.alloc(0), digits: 6, code: '755224', counter: 0, lookAhead: 0 })).toThrow(RangeError);
  });
});

describe('resynchronisation by two consecutive codes', () => {
  it('finds a token that ran far ahead and resumes after the second code', () => {
    expect(resyncHotp({ ...token, code1: RFC4226[7]!, code2: RFC4226[8]!, counter: 0, resyncWindow: 100 })).toEqual({
      ok: true,
      nextCounter: 9,
    });
  });

  it('refuses two codes that are not consecutive', () => {
    expect(resyncHotp({ ...token, code1: RFC4226[3]!, code2: RFC4226[5]!, counter: 0, resyncWindow: 100 })).toEqual({ ok: false });
  });

  it('refuses two consecutive codes given in the wrong order', () => {
    expect(resyncHotp({ ...token, code1: RFC4226[5]!, code2: RFC4226[4]!, counter: 0, resyncWindow: 100 })).toEqual({ ok: false });
  });

  it('refuses a pair beyond the resync window', () => {
    // The pair sits at counters 7 and 8: a window of 7 covers first counters 0…6 only.
    expect(resyncHotp({ ...token, code1: RFC4226[7]!, code2: RFC4226[8]!, counter: 0, resyncWindow: 7 })).toEqual({ ok: false });
    expect(resyncHotp({ ...token, code1: RFC4226[7]!, code2: RFC4226[8]!, counter: 0, resyncWindow: 8 })).toEqual({
      ok: true,
      nextCounter: 9,
    });
  });

  it('refuses a pair from before the stored counter (a replay)', () => {
    expect(resyncHotp({ ...token, code1: RFC4226[1]!, code2: RFC4226[2]!, counter: 3, resyncWindow: 100 })).toEqual({ ok: false });
  });

  it('refuses malformed codes', () => {
    expect(resyncHotp({ ...token, code1: RFC4226[1]!, code2: '28708', counter: 0, resyncWindow: 100 })).toEqual({ ok: false });
    expect(() => resyncHotp({ ...token, code1: RFC4226[1]!, code2: RFC4226[2]!, counter: 0, resyncWindow: 0 })).toThrow(RangeError);
  });
});

const OATHTOOL = '/usr/bin/oathtool';
const HAS_OATHTOOL = existsSync(OATHTOOL);

describe.skipIf(!HAS_OATHTOOL)(
  HAS_OATHTOOL
    ? 'agreement with oathtool (OATH Toolkit)'
    : `agreement with oathtool — SKIPPED: ${OATHTOOL} is not installed (apt-get install oathtool)`,
  () => {
    const oathtool = (hexKey: string, counter: number, digits: number) =>
      execFileSync(OATHTOOL, ['--hotp', '-d', String(digits), '-c', String(counter), hexKey], { encoding: 'utf8' }).trim();
    const keys = [SECRET, Buffer.from('00112233445566778899aabbccddeeff', 'hex'), Buffer.from('f0'.repeat(32), 'hex')];
    const counters = [0, 1, 9, 255, 256, 65_536, 2 ** 32 + 5, 2 ** 40 + 123];

    it.each([6, 7, 8])('matchHotp accepts what oathtool prints, %i digits', (digits) => {
      for (const secret of keys) {
        for (const counter of counters) {
          const code = oathtool(secret.toString('hex'), counter, digits);
          expect(hotpCode({ secret, digits }, counter)).toBe(code);
          expect(matchHotp({ secret, digits, code, counter, lookAhead: 0 })).toEqual({ ok: true, nextCounter: counter + 1 });
        }
      }
    });
  },
);
