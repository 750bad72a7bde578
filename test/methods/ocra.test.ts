import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateOcra,
  ocraChallengeFromLinkHash,
  OcraInputError,
  ocraPasswordHash,
  OcraSuiteError,
  ocraTimeStep,
  parseOcraSuite,
  verifyOcra,
} from '../../src/methods/ocra/ocra.js';

// RFC 6287 Appendix C: the standard keys are ASCII digits (hex 3132333435…), the PIN is "1234".
const KEY20 = Buffer.from('12345678901234567890', 'latin1');
const KEY32 = Buffer.from('12345678901234567890123456789012', 'latin1');
const KEY64 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'latin1');
const PIN_SHA1 = Buffer.from('7110eda4d09e062aa5e4a390b0a572ac0d2c0220', 'hex');
// Appendix C's T column is 132d0b6: minutes since the epoch for T1M suites.
const T = 0x132d0b6;
const AT_T = new Date(T * 60_000);

const repeat = (d: number) => String(d).repeat(8);

describe('RFC 6287 Appendix C.1: one-way challenge-response', () => {
  const oneWaySha1 = ['237653', '243178', '653583', '740991', '608993', '388898', '816933', '224598', '750600', '294470'];
  it.each(oneWaySha1.map((r, d) => ({ q: repeat(d), r })))('OCRA-1:HOTP-SHA1-6:QN08, 20-byte key, Q=$q gives $r', ({ q, r }) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: KEY20, question: q })).toBe(r);
  });

  const counterPin = [
    '65347737',
    '86775851',
    '78192410',
    '71565254',
    '10104329',
    '65983500',
    '70069104',
    '91771096',
    '75011558',
    '08522129',
  ];
  it.each(counterPin.map((r, c) => ({ c, r })))('OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1, 32-byte key, C=$c Q=12345678 gives $r', ({ c, r }) => {
    expect(
      generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1', key: KEY32, counter: c, question: '12345678', passwordHash: PIN_SHA1 }),
    ).toBe(r);
  });

  const pin = ['83238735', '01501458', '17957585', '86776967', '86807031'];
  it.each(pin.map((r, d) => ({ q: repeat(d), r })))('OCRA-1:HOTP-SHA256-8:QN08-PSHA1, 32-byte key, Q=$q gives $r', ({ q, r }) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1', key: KEY32, question: q, passwordHash: PIN_SHA1 })).toBe(r);
  });

  const counter512 = [
    '07016083',
    '63947962',
    '70123924',
    '25341727',
    '33203315',
    '34205738',
    '44343969',
    '51946085',
    '20403879',
    '31409299',
  ];
  it.each(counter512.map((r, d) => ({ c: d, q: repeat(d), r })))(
    'OCRA-1:HOTP-SHA512-8:C-QN08, 64-byte key, C=$c Q=$q gives $r',
    ({ c, q, r }) => {
      expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA512-8:C-QN08', key: KEY64, counter: c, question: q })).toBe(r);
    },
  );

  const timed = ['95209754', '55907591', '22048402', '24218844', '36209546'];
  it.each(timed.map((r, d) => ({ q: repeat(d), r })))('OCRA-1:HOTP-SHA512-8:QN08-T1M, 64-byte key, Q=$q T=132d0b6 gives $r', ({ q, r }) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M', key: KEY64, question: q, timestamp: AT_T })).toBe(r);
  });

  it('the PIN hash is SHA-1("1234") as the RFC states', () => {
    expect(ocraPasswordHash('SHA1', '1234')).toEqual(PIN_SHA1);
  });

  it('the time step of T1M at the RFC instant is 132d0b6, whatever the second within that minute', () => {
    expect(ocraTimeStep('OCRA-1:HOTP-SHA512-8:QN08-T1M', AT_T)).toBe(T);
    expect(ocraTimeStep('OCRA-1:HOTP-SHA512-8:QN08-T1M', new Date(AT_T.getTime() + 59_999))).toBe(T);
  });
});

describe('RFC 6287 Appendix C.2: mutual challenge-response', () => {
  const n = [0, 1, 2, 3, 4];
  const cli = (i: number) => `CLI2222${i}`;
  const srv = (i: number) => `SRV1111${i}`;

  const server256 = ['28247970', '01984843', '65387857', '03351211', '83412541'];
  it.each(n)('server, OCRA-1:HOTP-SHA256-8:QA08, 32-byte key, Q=CLI2222%iSRV1111…', (i) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: KEY32, question: [cli(i), srv(i)] })).toBe(server256[i]);
  });

  const client256 = ['15510767', '90175646', '33777207', '95285278', '28934924'];
  it.each(n)('client, OCRA-1:HOTP-SHA256-8:QA08, 32-byte key, Q=SRV1111%iCLI2222…', (i) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: KEY32, question: [srv(i), cli(i)] })).toBe(client256[i]);
  });

  const server512 = ['79496648', '76831980', '12250499', '90856481', '12761449'];
  it.each(n)('server, OCRA-1:HOTP-SHA512-8:QA08, 64-byte key, Q=CLI2222%iSRV1111…', (i) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA512-8:QA08', key: KEY64, question: [cli(i), srv(i)] })).toBe(server512[i]);
  });

  const client512 = ['18806276', '70020315', '01600026', '18951020', '32528969'];
  it.each(n)('client, OCRA-1:HOTP-SHA512-8:QA08-PSHA1, 64-byte key, Q=SRV1111%iCLI2222…', (i) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA512-8:QA08-PSHA1', key: KEY64, question: [srv(i), cli(i)], passwordHash: PIN_SHA1 })).toBe(
      client512[i],
    );
  });

  it('each of the two challenges is held to xx characters: a single 16-character challenge is refused for QA08', () => {
    expect(() => generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: KEY32, question: 'CLI22220SRV11110' })).toThrow(OcraInputError);
    expect(() => generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: KEY32, question: ['CLI222200', 'SRV1111'] })).toThrow(
      OcraInputError,
    );
  });
});

describe('RFC 6287 Appendix C.3: plain signature', () => {
  const sig256 = ['53095496', '04110475', '31331128', '76028668', '46554205'];
  it.each(sig256.map((r, i) => ({ q: `SIG1${i}000`, r })))('OCRA-1:HOTP-SHA256-8:QA08, 32-byte key, Q=$q gives $r', ({ q, r }) => {
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QA08', key: KEY32, question: q })).toBe(r);
  });

  const sig512 = ['77537423', '31970405', '10235557', '95213541', '65360607'];
  it.each(sig512.map((r, i) => ({ q: `SIG1${i}00000`, r })))(
    'OCRA-1:HOTP-SHA512-8:QA10-T1M, 64-byte key, Q=$q T=132d0b6 gives $r',
    ({ q, r }) => {
      expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA512-8:QA10-T1M', key: KEY64, question: q, timestamp: AT_T })).toBe(r);
    },
  );
});

describe('OCRASuite parsing', () => {
  it('reads every part of a suite', () => {
    expect(parseOcraSuite('OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1')).toEqual({
      text: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1',
      hash: 'SHA256',
      digits: 8,
      counter: true,
      question: { format: 'N', maxLength: 8 },
      passwordHash: 'SHA1',
      sessionLength: null,
      timeStep: null,
    });
    expect(parseOcraSuite('OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S512-T59M')).toMatchObject({
      hash: 'SHA512',
      digits: 10,
      counter: true,
      question: { format: 'A', maxLength: 64 },
      passwordHash: 'SHA512',
      sessionLength: 512,
      timeStep: 59 * 60,
    });
    expect(parseOcraSuite('OCRA-1:HOTP-SHA1-0:QH40-S064-T30S')).toMatchObject({
      digits: 0,
      question: { format: 'H', maxLength: 40 },
      sessionLength: 64,
      timeStep: 30,
    });
    expect(parseOcraSuite('OCRA-1:HOTP-SHA1-4:QN04-T48H').timeStep).toBe(48 * 3600);
  });

  it.each([
    ['', 'three parts'],
    ['OCRA-1:HOTP-SHA1-6', 'three parts'],
    ['OCRA-1:HOTP-SHA1-6:QN08:X', 'three parts'],
    ['OCRA-2:HOTP-SHA1-6:QN08', 'version'],
    ['ocra-1:hotp-sha1-6:qn08', 'version'],
    ['OCRA-1:HOTP-MD5-6:QN08', 'CryptoFunction'],
    ['OCRA-1:TOTP-SHA1-6:QN08', 'CryptoFunction'],
    ['OCRA-1:HOTP-SHA1-3:QN08', 'truncation'],
    ['OCRA-1:HOTP-SHA1-11:QN08', 'truncation'],
    ['OCRA-1:HOTP-SHA1-6:C', 'challenge'],
    ['OCRA-1:HOTP-SHA1-6:QX08', 'challenge'],
    ['OCRA-1:HOTP-SHA1-6:QN8', 'challenge'],
    ['OCRA-1:HOTP-SHA1-6:QN03', 'challenge length'],
    ['OCRA-1:HOTP-SHA1-6:QN65', 'challenge length'],
    ['OCRA-1:HOTP-SHA1-6:QN08-C', 'Unexpected'],
    ['OCRA-1:HOTP-SHA1-6:QN08-PSHA384', 'password hash'],
    ['OCRA-1:HOTP-SHA1-6:QN08-S64', 'session'],
    ['OCRA-1:HOTP-SHA1-6:QN08-S000', 'session length'],
    ['OCRA-1:HOTP-SHA1-6:QN08-S513', 'session length'],
    ['OCRA-1:HOTP-SHA1-6:QN08-T0M', 'time step'],
    ['OCRA-1:HOTP-SHA1-6:QN08-T60S', 'time step'],
    ['OCRA-1:HOTP-SHA1-6:QN08-T49H', 'time step'],
    ['OCRA-1:HOTP-SHA1-6:QN08-T1D', 'time step'],
    ['OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1', 'Unexpected'],
    ['OCRA-1:HOTP-SHA1-6:QN08-S064-PSHA1', 'Unexpected'],
    ['OCRA-1:HOTP-SHA1-6:QN08-', 'Unexpected'],
  ])('refuses %j with a typed error mentioning %j', (suite, words) => {
    const err = (() => {
      try {
        parseOcraSuite(suite);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(OcraSuiteError);
    expect((err as OcraSuiteError).code).toBe('ERR_OCRA_SUITE');
    expect((err as Error).message.toLowerCase()).toContain(words.toLowerCase());
  });
});

describe('inputs that do not fit the suite', () => {
  const base = { suite: 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1', key: KEY32, question: '12345678', passwordHash: PIN_SHA1, counter: 0 };

  it.each([
    ['a C suite without a counter', { counter: undefined }],
    ['a P suite without a PIN hash', { passwordHash: undefined }],
    ['a PIN hash of the wrong length', { passwordHash: Buffer.alloc(32) }],
    ['a negative counter', { counter: -1 }],
    ['a challenge longer than xx', { question: '123456789' }],
    ['a non-numeric challenge for QN', { question: '1234567a' }],
    ['an empty challenge', { question: '' }],
    ['three challenges', { question: ['1', '2', '3'] }],
    ['an empty key', { key: Buffer.alloc(0) }],
  ])('%s is refused with ERR_OCRA_INPUT', (_, change) => {
    expect(() => generateOcra({ ...base, ...change })).toThrow(OcraInputError);
  });

  it('a T suite needs a timestamp; an S suite needs exactly nnn bytes of session information', () => {
    expect(() => generateOcra({ suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M', key: KEY64, question: '1' })).toThrow(OcraInputError);
    const s = 'OCRA-1:HOTP-SHA1-6:QN08-S064';
    expect(() => generateOcra({ suite: s, key: KEY20, question: '1', sessionInfo: Buffer.alloc(63) })).toThrow(OcraInputError);
    const a = generateOcra({ suite: s, key: KEY20, question: '1', sessionInfo: Buffer.alloc(64, 1) });
    const b = generateOcra({ suite: s, key: KEY20, question: '1', sessionInfo: Buffer.alloc(64, 2) });
    expect(a).toMatch(/^\d{6}$/);
    expect(a).not.toBe(b);
  });

  it('QH challenges are read as hex, and QN ones as a decimal number (00000001 and 1 are the same challenge)', () => {
    const hex = generateOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QH08', key: KEY20, question: 'BC614E' });
    expect(generateOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QH08', key: KEY20, question: 'bc614e' })).toBe(hex);
    expect(() => generateOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QH08', key: KEY20, question: 'BC614G' })).toThrow(OcraInputError);
    const n = (q: string) => generateOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: KEY20, question: q });
    expect(n('00000001')).toBe(n('1'));
  });

  it('a suite without truncation (-0) answers with the whole HMAC in hex', () => {
    const r = generateOcra({ suite: 'OCRA-1:HOTP-SHA256-0:QN08', key: KEY32, question: '12345678' });
    expect(r).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyOcra({ suite: 'OCRA-1:HOTP-SHA256-0:QN08', key: KEY32, question: '12345678', response: r.toUpperCase() })).toEqual({
      ok: true,
    });
  });
});

describe('verifyOcra', () => {
  it('accepts the RFC response to a one-way challenge and refuses another challenge', () => {
    expect(verifyOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: KEY20, question: '11111111', response: '243178' })).toEqual({ ok: true });
    expect(verifyOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: KEY20, question: '22222222', response: '243178' })).toEqual({ ok: false });
  });

  it.each(['24317', '2431789', ' 243178', '24317a', ''])('refuses the malformed response %j', (response) => {
    expect(verifyOcra({ suite: 'OCRA-1:HOTP-SHA1-6:QN08', key: KEY20, question: '11111111', response })).toEqual({ ok: false });
  });

  describe('time drift (T suites)', () => {
    const suite = 'OCRA-1:HOTP-SHA512-8:QN08-T1M';
    const twoMinutesLater = new Date(AT_T.getTime() + 2 * 60_000);

    it('accepts a response signed two steps ago with a drift of 2 and says which step', () => {
      expect(
        verifyOcra({ suite, key: KEY64, question: '00000000', response: '95209754', timestamp: twoMinutesLater, timeDrift: 2 }),
      ).toEqual({
        ok: true,
        timeStep: T,
      });
    });

    it('refuses it with a drift of 1, and at the exact step with no drift it is accepted', () => {
      expect(
        verifyOcra({ suite, key: KEY64, question: '00000000', response: '95209754', timestamp: twoMinutesLater, timeDrift: 1 }),
      ).toEqual({ ok: false });
      expect(verifyOcra({ suite, key: KEY64, question: '00000000', response: '95209754', timestamp: AT_T })).toEqual({
        ok: true,
        timeStep: T,
      });
    });

    it('accepts a token whose clock is ahead, within the drift', () => {
      const oneMinuteEarlier = new Date(AT_T.getTime() - 60_000);
      expect(
        verifyOcra({ suite, key: KEY64, question: '00000000', response: '95209754', timestamp: oneMinuteEarlier, timeDrift: 1 }),
      ).toEqual({
        ok: true,
        timeStep: T,
      });
    });
  });

  describe('counter look-ahead (C suites)', () => {
    const suite = 'OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1';
    const v = (response: string, counter: number, counterLookAhead: number) =>
      verifyOcra({ suite, key: KEY32, question: '12345678', passwordHash: PIN_SHA1, response, counter, counterLookAhead });

    it('accepts the response for counter 3 from stored counter 0 with a look-ahead of 3, and moves past it', () => {
      expect(v('71565254', 0, 3)).toEqual({ ok: true, nextCounter: 4 });
      expect(v('71565254', 4, 3)).toEqual({ ok: false });
    });

    it('refuses it with a look-ahead of 2', () => {
      expect(v('71565254', 0, 2)).toEqual({ ok: false });
    });

    it('refuses a wrong PIN hash', () => {
      const wrongPin = ocraPasswordHash('SHA1', '1235');
      expect(verifyOcra({ suite, key: KEY32, question: '12345678', passwordHash: wrongPin, response: '65347737', counter: 0 })).toEqual({
        ok: false,
      });
    });

    it('refuses absurd windows loudly', () => {
      expect(() => v('71565254', 0, 100_000)).toThrow(RangeError);
      expect(() =>
        verifyOcra({
          suite: 'OCRA-1:HOTP-SHA512-8:QN08-T1M',
          key: KEY64,
          question: '1',
          response: '12345678',
          timestamp: AT_T,
          timeDrift: -1,
        }),
      ).toThrow(RangeError);
    });
  });
});

describe('ocraChallengeFromLinkHash', () => {
  // Known answers computed independently (Python: int.from_bytes(sha256(link_hash_bytes), 'big') % 10**d).
  const LINK_HASH = 'UNhY4JhezH9gQYqvDMWrWH9CwlcKiECVqejMrND2VFw'; // base64url(SHA-256("example"))

  it('is SHA-256 of the link hash, big-endian, mod 10^digits', () => {
    expect(ocraChallengeFromLinkHash(LINK_HASH, 6)).toBe('940151');
    expect(ocraChallengeFromLinkHash(LINK_HASH, 8)).toBe('91940151');
    expect(ocraChallengeFromLinkHash(LINK_HASH, 10)).toBe('9491940151');
  });

  it('keeps leading zeros', () => {
    expect(ocraChallengeFromLinkHash('t6Voc813HyxEbTabZJQwtlp1a6J4_5fsgbtvVbLnNWk', 8)).toBe('00003979');
  });

  it('gives another challenge, hence another response, for another operation', () => {
    const other = createHash('sha256').update('example!').digest('base64url');
    const q1 = ocraChallengeFromLinkHash(LINK_HASH, 8);
    const q2 = ocraChallengeFromLinkHash(other, 8);
    expect(q1).not.toBe(q2);
    const sign = (question: string) => generateOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QN08', key: KEY32, question });
    expect(verifyOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QN08', key: KEY32, question: q2, response: sign(q1) })).toEqual({ ok: false });
    expect(verifyOcra({ suite: 'OCRA-1:HOTP-SHA256-8:QN08', key: KEY32, question: q1, response: sign(q1) })).toEqual({ ok: true });
  });

  it('spreads challenges evenly: each leading digit about a tenth of the time', () => {
    const counts = Array.from({ length: 10 }, () => 0);
    for (let i = 0; i < 2000; i++) {
      const lh = createHash('sha256').update(`operation ${i}`).digest('base64url');
      counts[Number(ocraChallengeFromLinkHash(lh, 8)[0])]! += 1;
    }
    // Expected 200 each (σ ≈ 13): the bounds are beyond 7σ, so this never flakes on a fair derivation.
    for (const c of counts) expect(c).toBeGreaterThan(100);
    for (const c of counts) expect(c).toBeLessThan(300);
  });

  it('refuses a malformed link hash or digit count', () => {
    expect(() => ocraChallengeFromLinkHash('not a hash', 8)).toThrow(RangeError);
    expect(() => ocraChallengeFromLinkHash(`${LINK_HASH}A`, 8)).toThrow(RangeError);
    expect(() => ocraChallengeFromLinkHash(LINK_HASH, 3)).toThrow(RangeError);
    expect(() => ocraChallengeFromLinkHash(LINK_HASH, 65)).toThrow(RangeError);
  });
});
