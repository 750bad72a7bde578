import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateRecoveryCodes, hashRecoveryCode, normaliseRecoveryCode } from '../../src/methods/recovery/codes.js';

const SHAPE = /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;

describe('generateRecoveryCodes', () => {
  it('gives 10 distinct codes shaped XXXXX-XXXXX without ambiguous letters', () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) {
      expect(c).toMatch(SHAPE);
      expect(c).not.toMatch(/[ILOU]/);
    }
  });

  it('gives the number asked for, and a new set every time', () => {
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    expect(generateRecoveryCodes()).not.toEqual(generateRecoveryCodes());
  });
});

describe('normaliseRecoveryCode', () => {
  it('accepts lower case, spaces and dashes', () => {
    expect(normaliseRecoveryCode(' 7kq2m - 0xh9t ')).toBe('7KQ2M0XH9T');
    expect(normaliseRecoveryCode('7KQ2M-0XH9T')).toBe('7KQ2M0XH9T');
  });

  it('reads O as 0 and I or L as 1', () => {
    expect(normaliseRecoveryCode('o0OiIlL1')).toBe('00011111');
  });

  it('is idempotent', () => {
    const once = normaliseRecoveryCode('ab-cd ol');
    expect(normaliseRecoveryCode(once)).toBe(once);
  });
});

describe('hashRecoveryCode', () => {
  const key = randomBytes(32);
  const [code] = generateRecoveryCodes(1) as [string];

  it('is stable and ignores how the code was typed', () => {
    const h = hashRecoveryCode(key, 'auth-1', code);
    expect(hashRecoveryCode(key, 'auth-1', code)).toBe(h);
    expect(hashRecoveryCode(key, 'auth-1', ` ${code.toLowerCase().replace('-', ' ')} `)).toBe(h);
    expect(h).not.toContain(normaliseRecoveryCode(code));
  });

  it('is keyed: another key gives another hash', () => {
    expect(hashRecoveryCode(randomBytes(32), 'auth-1', code)).not.toBe(hashRecoveryCode(key, 'auth-1', code));
  });

  it('is bound to the authenticator: the same code elsewhere gives another hash', () => {
    expect(hashRecoveryCode(key, 'auth-2', code)).not.toBe(hashRecoveryCode(key, 'auth-1', code));
  });

  it('tells different codes apart', () => {
    const [a, b] = generateRecoveryCodes(2) as [string, string];
    expect(hashRecoveryCode(key, 'auth-1', a)).not.toBe(hashRecoveryCode(key, 'auth-1', b));
  });
});
