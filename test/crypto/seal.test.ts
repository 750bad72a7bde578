import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sealer } from '../../src/crypto/seal.js';

/** Secrets at rest: AES-256-GCM bound to their row, opened only whole and under the right context. */
describe('the sealer', () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };

  it('opens what it sealed, under the same context only, with any loaded key', () => {
    const sealer = new Sealer([k1]);
    const sealed = sealer.seal('JBSWY3DPEHPK3PXP', 'totp:a1');
    expect(sealer.open(sealed, 'totp:a1').toString('utf8')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => sealer.open(sealed, 'totp:a2')).toThrow();
    // After a rotation the new key seals and the old one still opens.
    const rotated = new Sealer([k2, k1]);
    expect(rotated.open(sealed, 'totp:a1').toString('utf8')).toBe('JBSWY3DPEHPK3PXP');
    expect(Sealer.keyIdOf(rotated.seal('x', 'c'))).toBe('k2');
  });

  it('refuses a truncated tag, a short IV or a tampered ciphertext', () => {
    const sealer = new Sealer([k1]);
    const [kid, iv, ct] = sealer.seal('secret value', 'ctx').split('.') as [string, string, string];
    const bytes = Buffer.from(ct, 'base64url');
    // The same ciphertext with a 4-byte tag: GCM would accept it if the tag length were not pinned.
    const truncated = `${kid}.${iv}.${bytes.subarray(0, bytes.length - 12).toString('base64url')}`;
    expect(() => sealer.open(truncated, 'ctx')).toThrow();
    expect(() => sealer.open(`${kid}.${Buffer.alloc(8).toString('base64url')}.${ct}`, 'ctx')).toThrow(/malformed/);
    const flipped = Buffer.from(bytes);
    flipped[0]! ^= 1;
    expect(() => sealer.open(`${kid}.${iv}.${flipped.toString('base64url')}`, 'ctx')).toThrow();
  });

  it('refuses two keys with the same id', () => {
    expect(() => new Sealer([k1, { id: 'k1', key: randomBytes(32) }])).toThrow(/same id/);
  });
});
