import { beforeAll, describe, expect, it } from 'vitest';
import { Conflict } from '../../src/core/errors.js';
import { passwordMethod } from '../../src/methods/password/index.js';
import type { AuthenticatorRow } from '../../src/store/schema.js';
import {
  dummyHash,
  hashPassword,
  needsRehash,
  passwordPolicyError,
  verifyPassword,
  type Argon2Params,
} from '../../src/methods/password/argon.js';

// OWASP minimum; each hash costs tens of milliseconds, so the suite computes only two.
const OWASP: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
const PASSWORD = 'tour Eiffel, café 1889'; // "é" as one code point (NFC)
let stored: string;

beforeAll(async () => {
  stored = await hashPassword(PASSWORD, OWASP);
});

describe('hashPassword / verifyPassword', () => {
  it('produces an argon2id v=19 PHC string with the configured parameters', () => {
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  });

  it('accepts the right password', async () => {
    expect(await verifyPassword(stored, PASSWORD)).toBe(true);
  });

  it('accepts the same password typed with a decomposed accent (NFKC)', async () => {
    const decomposed = PASSWORD.normalize('NFD');
    expect(decomposed).not.toBe(PASSWORD);
    expect(await verifyPassword(stored, decomposed)).toBe(true);
  });

  it('refuses a wrong password', async () => {
    expect(await verifyPassword(stored, 'tour Eiffel, café 1890')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not a hash', 'not-a-hash'],
    ['truncated', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['garbage salt and hash', '$argon2id$v=19$m=19456,t=2,p=1$!!!$???'],
  ])('returns false, without throwing, for a malformed hash (%s)', async (_name, bad) => {
    await expect(verifyPassword(bad, PASSWORD)).resolves.toBe(false);
  });
});

describe('needsRehash', () => {
  it('is false when the hash has the configured parameters', () => {
    expect(needsRehash(stored, OWASP)).toBe(false);
  });

  it.each([
    ['memory', { ...OWASP, memoryCost: 65536 }],
    ['iterations', { ...OWASP, timeCost: 3 }],
    ['parallelism', { ...OWASP, parallelism: 2 }],
  ])('is true when the %s parameter differs', (_name, params) => {
    expect(needsRehash(stored, params)).toBe(true);
  });

  it('is true for another algorithm or a malformed hash', () => {
    expect(needsRehash(stored.replace('$argon2id$', '$argon2i$'), OWASP)).toBe(true);
    expect(needsRehash('$2b$12$abcdefghijklmnopqrstuv', OWASP)).toBe(true);
    expect(needsRehash('', OWASP)).toBe(true);
  });
});

describe('dummyHash', () => {
  it('is a valid hash with the configured parameters, computed once, matching no password we know', async () => {
    const [a, b] = await Promise.all([dummyHash(OWASP), dummyHash({ ...OWASP })]);
    expect(a).toBe(b);
    expect(needsRehash(a, OWASP)).toBe(false);
    expect(await verifyPassword(a, PASSWORD)).toBe(false);
  });
});

describe('passwordPolicyError', () => {
  it.each([
    ['7 characters', 'abcdefg'],
    ['7 emoji (14 UTF-16 units)', '😀😁😂🤣😃😄😅'],
    ['129 characters', `${'ab'.repeat(64)}c`],
    ['one character repeated', 'aaaaaaaaaa'],
    ['one emoji repeated', '🔒🔒🔒🔒🔒🔒🔒🔒'],
  ])('refuses %s', (_name, pw) => {
    expect(passwordPolicyError(pw)).toEqual(expect.any(String));
  });

  it.each([
    ['8 characters', 'abcdefgh'],
    ['8 emoji', '😀😁😂🤣😃😄😅😆'],
    ['128 characters', 'ab'.repeat(64)],
    ['a passphrase without digits or capitals', 'le petit chat dort'],
  ])('accepts %s', (_name, pw) => {
    expect(passwordPolicyError(pw)).toBeNull();
  });
});

describe('the password method under the customer’s lock', () => {
  const ctx = {} as Parameters<NonNullable<typeof passwordMethod.check>>[0];
  const row = (digest: string) => ({ secret_digest: digest }) as AuthenticatorRow;
  const check = (a: AuthenticatorRow | null, pre: { ok: boolean; digest: string | null }) =>
    passwordMethod.check!(ctx, a, { method: 'password', password: 'x' }, pre);

  it('a right password checked against a hash replaced meanwhile is a conflict to retry, never a failure to count', () => {
    expect(check(row('$argon2id$A'), { ok: true, digest: '$argon2id$A' })).toEqual({ ok: true, change: {} });
    let thrown: unknown;
    try {
      check(row('$argon2id$B'), { ok: true, digest: '$argon2id$A' });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Conflict);
    expect((thrown as Conflict).code).toBe('ERR_CONCURRENT_CHANGE');
    // A wrong password stays a failure, whatever happened to the hash; so does a customer without one.
    expect(check(row('$argon2id$B'), { ok: false, digest: '$argon2id$A' })).toEqual({ ok: false });
    expect(check(null, { ok: true, digest: '$argon2id$A' })).toEqual({ ok: false });
  });
});
