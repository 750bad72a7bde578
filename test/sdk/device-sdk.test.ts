import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { approvalPayload, linkHashOf, truncateToDigits } from '../../sdk/device/src/payload.js';
import { generatePossessionKey, hmac, signWithPossession, verifyPossession } from '../../sdk/device/src/keys.js';
import { newKnowledgeKey, unlockKnowledgeKey } from '../../sdk/device/src/pin-vault.js';
import { linkHash, normaliseOperationData } from '../../src/core/dynamic-linking.js';
import { verifyPossessionSignature } from '../../src/methods/app/keys.js';

describe('device SDK', () => {
  it('a wrong PIN unlocks *a* key without any error: only the server, comparing HMACs, can tell', async () => {
    const { raw, wrapped } = await newKnowledgeKey('482913', 1000);
    const data = new TextEncoder().encode('payload');
    const expected = createHmac('sha256', Buffer.from(raw)).update(data).digest();
    const right = await hmac(await unlockKnowledgeKey(wrapped, '482913'), data);
    const wrong = await hmac(await unlockKnowledgeKey(wrapped, '482914'), data);
    expect(Buffer.from(right)).toEqual(expected);
    expect(Buffer.from(wrong)).not.toEqual(expected);
    // Nothing stored on the device distinguishes the right PIN: no MAC, no check value, no public key.
    expect(Object.keys(wrapped).sort()).toEqual(['ciphertext', 'counterBlock', 'iterations', 'salt']);
  });

  it('refuses a PIN that is not 6 digits when wrapping', async () => {
    await expect(newKnowledgeKey('1234', 1000)).rejects.toThrow(/6 digits/);
  });

  it('the possession key is non-extractable and its signatures verify on the server side (node:crypto)', async () => {
    const k = await generatePossessionKey();
    expect(k.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', k.privateKey)).rejects.toThrow();
    const data = new TextEncoder().encode('sesame');
    const sig = await signWithPossession(k.privateKey, data);
    expect(await verifyPossession(k.publicJwk, data, sig)).toBe(true);
    expect(verifyPossessionSignature(k.publicJwk as never, data, sig)).toBe(true);
    expect(verifyPossessionSignature(k.publicJwk as never, new TextEncoder().encode('sesamE'), sig)).toBe(false);
  });

  it('the app computes the same link hash as the server from the data it displays', async () => {
    const data = normaliseOperationData({
      type: 'payment',
      amount: { value: 25000, currency: 'EUR' },
      payee: { name: 'Plomberie Martin', iban: 'FR76 3000 6000 0112 3456 7890 189' },
    } as never);
    expect(await linkHashOf(data as never)).toBe(linkHash(data));
    expect(await linkHashOf({ ...(data as object), amount: { value: 25001, currency: 'EUR' } } as never)).not.toBe(linkHash(data));
  });

  it('the approval payload is canonical JSON behind a fixed prefix', () => {
    const text = new TextDecoder().decode(
      approvalPayload({
        authenticatorId: 'a1',
        approvalId: 'p1',
        operationId: 'o1',
        linkHash: 'LH',
        nonce: 'N',
        counter: 7,
        decision: 'approve',
        numberChoice: null,
      }),
    );
    expect(text).toBe(
      'sesame-approval-v1\n{"approvalId":"p1","authenticatorId":"a1","counter":7,"decision":"approve","linkHash":"LH","nonce":"N","numberChoice":null,"operationId":"o1"}',
    );
  });

  it('offline codes use RFC 4226 dynamic truncation (Appendix D vector)', () => {
    const mac = createHmac('sha1', Buffer.from('12345678901234567890')).update(Buffer.alloc(8)).digest();
    expect(truncateToDigits(mac, 6)).toBe('755224');
  });
});
