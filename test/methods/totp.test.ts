import { execFileSync } from 'node:child_process';
import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  codeAtStep,
  generateTotpSecret,
  matchTotp,
  qrSvg,
  qrTerminal,
  stepAt,
  totpUri,
  type TotpAlgorithm,
  type TotpDigits,
  type TotpParams,
} from '../../src/methods/totp/totp.js';

const NOW = new Date('2026-01-15T09:00:00Z');
const STEP = stepAt(NOW, 30);
const params: TotpParams = { secretBase32: generateTotpSecret(), algorithm: 'SHA1', digits: 6, period: 30 };
const codeAt = (step: number, p: TotpParams = params) => codeAtStep(p, step);
const match = (code: string, extra: Partial<Parameters<typeof matchTotp>[0]> = {}) =>
  matchTotp({ ...params, code, now: NOW, window: 1, lastUsedStep: null, ...extra });

describe('generateTotpSecret', () => {
  it('gives a base32 seed of 20 random bytes, different every time', () => {
    const s = generateTotpSecret();
    expect(s).toMatch(/^[A-Z2-7]{32}$/);
    expect(Secret.fromBase32(s).bytes.length).toBe(20);
    expect(generateTotpSecret()).not.toBe(s);
  });
});

describe('matchTotp: clock drift', () => {
  it('accepts the codes of the previous, current and next step with window 1', () => {
    for (const d of [-1, 0, 1]) expect(match(codeAt(STEP + d))).toEqual({ ok: true, step: STEP + d });
  });

  it('refuses codes two steps away with window 1', () => {
    expect(match(codeAt(STEP - 2))).toEqual({ ok: false });
    expect(match(codeAt(STEP + 2))).toEqual({ ok: false });
  });

  it('accepts only the current step with window 0', () => {
    expect(match(codeAt(STEP), { window: 0 })).toEqual({ ok: true, step: STEP });
    expect(match(codeAt(STEP - 1), { window: 0 })).toEqual({ ok: false });
    expect(match(codeAt(STEP + 1), { window: 0 })).toEqual({ ok: false });
  });

  it('refuses a negative or fractional window as a programming error', () => {
    expect(() => match(codeAt(STEP), { window: -1 })).toThrow(RangeError);
    expect(() => match(codeAt(STEP), { window: 0.5 })).toThrow(RangeError);
  });
});

describe('matchTotp: a code works once', () => {
  it('refuses the same code again once its step is recorded', () => {
    const first = match(codeAt(STEP));
    expect(first).toEqual({ ok: true, step: STEP });
    expect(match(codeAt(STEP), { lastUsedStep: STEP })).toEqual({ ok: false });
    // Still refused half a minute later, while the step is inside the window.
    expect(match(codeAt(STEP), { lastUsedStep: STEP, now: new Date(NOW.getTime() + 30_000) })).toEqual({ ok: false });
  });

  it('refuses an older step after a newer one was used', () => {
    expect(match(codeAt(STEP - 1), { lastUsedStep: STEP })).toEqual({ ok: false });
    expect(match(codeAt(STEP), { lastUsedStep: STEP + 1 })).toEqual({ ok: false });
  });

  it('accepts the next step after the current one was used', () => {
    expect(match(codeAt(STEP + 1), { lastUsedStep: STEP })).toEqual({ ok: true, step: STEP + 1 });
  });
});

describe('matchTotp: malformed codes', () => {
  const good = codeAt(STEP);
  it.each([
    ['too short', good.slice(0, 5)],
    ['too long', `${good}0`],
    ['empty', ''],
    ['with a space', ` ${good.slice(1)}`],
    ['with letters', 'abcdef'],
    ['with a sign', `+${good.slice(1)}`],
    ['with non-ASCII digits', '١٢٣٤٥٦'],
    ['with full-width digits', '１２３４５６'],
  ])('refuses a code %s', (_name, code) => {
    expect(match(code)).toEqual({ ok: false });
  });
});

describe('matchTotp: digits', () => {
  it.each([6, 7, 8] as const)('works with %i digits', (digits) => {
    const p = { ...params, digits };
    const code = codeAt(STEP, p);
    expect(code).toMatch(new RegExp(`^[0-9]{${digits}}$`));
    expect(matchTotp({ ...p, code, now: NOW, window: 1, lastUsedStep: null })).toEqual({ ok: true, step: STEP });
    // The same code with the wrong expected length is refused.
    expect(matchTotp({ ...p, digits: digits === 6 ? 8 : 6, code, now: NOW, window: 1, lastUsedStep: null })).toEqual({ ok: false });
  });
});

describe('totpUri and QR codes', () => {
  it('carries issuer, account, algorithm, digits, period and the secret', () => {
    const secretBase32 = generateTotpSecret();
    const uri = new URL(
      totpUri({ secretBase32, issuer: 'Sésame', accountName: 'alice@bank.example', algorithm: 'SHA256', digits: 8, period: 30 }),
    );
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Sésame:alice@bank.example');
    expect(uri.searchParams.get('issuer')).toBe('Sésame');
    expect(uri.searchParams.get('algorithm')).toBe('SHA256');
    expect(uri.searchParams.get('digits')).toBe('8');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(uri.searchParams.get('secret')).toBe(secretBase32);
    expect(Secret.fromBase32(uri.searchParams.get('secret')!).base32).toBe(secretBase32);
  });

  it('draws the URI as SVG and for a terminal', async () => {
    const uri = totpUri({ ...params, issuer: 'Sésame', accountName: 'alice' });
    expect(await qrSvg(uri)).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const term = await qrTerminal(uri);
    expect(term.split('\n').length).toBeGreaterThan(10);
  });
});

describe('oathtool cross-check', () => {
  function oathtool(args: string[]): string {
    try {
      return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('oathtool is required for this test and was not found on PATH: apt-get install -y oathtool');
      }
      throw err;
    }
  }

  const cases = (['SHA1', 'SHA256', 'SHA512'] as TotpAlgorithm[]).flatMap((algorithm) =>
    ([6, 8] as TotpDigits[]).map((digits) => ({ algorithm, digits })),
  );

  it.each(cases)('matchTotp accepts oathtool --totp=$algorithm -d $digits at 2026-01-15 09:00:00 UTC', ({ algorithm, digits }) => {
    const secretBase32 = generateTotpSecret();
    const code = oathtool([`--totp=${algorithm}`, '-d', String(digits), '-b', secretBase32, '--now', '2026-01-15 09:00:00 UTC']);
    expect(code).toMatch(new RegExp(`^[0-9]{${digits}}$`));
    const p: TotpParams = { secretBase32, algorithm, digits, period: 30 };
    expect(matchTotp({ ...p, code, now: NOW, window: 0, lastUsedStep: null })).toEqual({ ok: true, step: STEP });
  });
});

describe('matchTotp: other periods', () => {
  it('works with a 60 s period (some hardware tokens)', () => {
    const p = { ...params, period: 60 };
    const step = stepAt(NOW, 60);
    expect(matchTotp({ ...p, code: codeAtStep(p, step), now: NOW, window: 0, lastUsedStep: null })).toEqual({ ok: true, step });
  });

  it('refuses a period that is not a whole number ≥ 1 as a programming error', () => {
    expect(() => matchTotp({ ...params, period: 0, code: '000000', now: NOW, window: 1, lastUsedStep: null })).toThrow(RangeError);
  });
});
