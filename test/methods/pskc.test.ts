import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchHotp } from '../../src/methods/hotp/hotp.js';
import { importPskc, TokenImportError } from '../../src/methods/pskc/pskc.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/pskc/${name}`, import.meta.url), 'utf8');
const FIGURE2 = fixture('rfc6030-figure2.xml');
const FIGURE3 = fixture('rfc6030-figure3.xml');
const FIGURE5 = fixture('rfc6030-figure5.xml');
const FIGURE6 = fixture('rfc6030-figure6.xml');
const FIGURE7 = fixture('rfc6030-figure7.xml');
// RFC 6030 §6.1 (Figure 6): the pre-shared AES-128 key.
const PRE_SHARED_KEY = Buffer.from('12345678901234567890123456789012', 'hex');
// The RFC's example seed, in every figure: ASCII "12345678901234567890" (the RFC 4226 test key).
const RFC_SEED = Buffer.from('3132333435363738393031323334353637383930', 'hex');

async function importError(pending: Promise<unknown>): Promise<TokenImportError> {
  try {
    await pending;
  } catch (err) {
    expect(err).toBeInstanceOf(TokenImportError);
    return err as TokenImportError;
  }
  throw new Error('expected a TokenImportError');
}

/** No error may carry secret material, in its message or details. */
function expectNoSecret(err: TokenImportError, ...secrets: string[]) {
  const rendered = `${err.message} ${JSON.stringify(err.details)}`;
  for (const s of secrets) expect(rendered).not.toContain(s);
}

describe('RFC 6030 plaintext examples', () => {
  it('Figure 2: the basic container (no device information: the key Id is the serial, 6 digits by default)', async () => {
    expect(await importPskc(FIGURE2)).toEqual([
      { serial: '12345678', algorithm: 'hotp', secret: Buffer.from('1234'), digits: 6, counter: 0, issuer: 'Issuer-A' },
    ]);
  });

  it('Figure 3: an HOTP token with device information, 8 digits, counter 0', async () => {
    expect(await importPskc(FIGURE3)).toEqual([
      { serial: '987654321', manufacturer: 'Manufacturer', algorithm: 'hotp', secret: RFC_SEED, digits: 8, counter: 0, issuer: 'Issuer' },
    ]);
  });

  it('the imported seed verifies the RFC 4226 Appendix D codes', async () => {
    const [seed] = await importPskc(FIGURE3);
    expect(matchHotp({ secret: seed!.secret, digits: 6, code: '755224', counter: seed!.counter!, lookAhead: 0 })).toEqual({
      ok: true,
      nextCounter: 1,
    });
  });

  it('ignores namespace prefixes: the same document with a `p:` prefix reads the same', async () => {
    const prefixed = FIGURE3.replace(/<(\/?)(?!\?|!)/g, '<$1p:').replace('xmlns=', 'xmlns:p=');
    expect(prefixed).toContain('<p:KeyContainer');
    expect(await importPskc(prefixed)).toEqual(await importPskc(FIGURE3));
  });

  it('Figure 5: a PIN key is an unsupported algorithm, reported without its value', async () => {
    const err = await importError(importPskc(FIGURE5));
    expect(err.code).toBe('ERR_PSKC_UNSUPPORTED');
    expect(err.message).toContain('urn:ietf:params:xml:ns:keyprov:pskc:pin');
    expectNoSecret(err, 'MTIzNA==', 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=');
  });
});

describe('RFC 6030 Figure 6: AES-128-CBC with a pre-shared key, HMAC-SHA1', () => {
  it('decrypts the seed with the pre-shared key', async () => {
    expect(await importPskc(FIGURE6, { preSharedKey: PRE_SHARED_KEY })).toEqual([
      { serial: '987654321', manufacturer: 'Manufacturer', algorithm: 'hotp', secret: RFC_SEED, digits: 8, counter: 0, issuer: 'Issuer' },
    ]);
  });

  it('asks for the key, by name, when none is given', async () => {
    const err = await importError(importPskc(FIGURE6));
    expect(err.code).toBe('ERR_PSKC_KEY_REQUIRED');
    expect(err.details).toEqual({ keyName: 'Pre-shared-key' });
  });

  it('refuses a wrong key without saying more than "wrong key or altered"', async () => {
    const wrong = Buffer.from('12345678901234567890123456789013', 'hex');
    const err = await importError(importPskc(FIGURE6, { preSharedKey: wrong }));
    expect(err.code).toBe('ERR_PSKC_DECRYPT');
    expectNoSecret(err, RFC_SEED.toString('hex'), RFC_SEED.toString('latin1'), PRE_SHARED_KEY.toString('hex'));
  });

  it('refuses a key of the wrong size for AES-128', async () => {
    expect((await importError(importPskc(FIGURE6, { preSharedKey: Buffer.alloc(32) }))).code).toBe('ERR_PSKC_DECRYPT');
  });

  it('refuses a tampered ValueMAC', async () => {
    const tampered = FIGURE6.replace('Su+NvtQfmvfJzF6bmQiJqoLRExc=', 'Tu+NvtQfmvfJzF6bmQiJqoLRExc=');
    expect((await importError(importPskc(tampered, { preSharedKey: PRE_SHARED_KEY }))).code).toBe('ERR_PSKC_DECRYPT');
  });

  it('refuses a tampered ciphertext (the MAC no longer matches)', async () => {
    const tampered = FIGURE6.replace('AAECAwQFBgcICQoLDA0OD+cI', 'AAECAwQFBgcICQoLDA0OD+cJ');
    expect((await importError(importPskc(tampered, { preSharedKey: PRE_SHARED_KEY }))).code).toBe('ERR_PSKC_DECRYPT');
  });

  it('refuses an encrypted value without a ValueMAC (CBC alone does not detect tampering)', async () => {
    const noMac = FIGURE6.replace(/<ValueMAC>[\s\S]*?<\/ValueMAC>/, '');
    expect((await importError(importPskc(noMac, { preSharedKey: PRE_SHARED_KEY }))).code).toBe('ERR_PSKC_INVALID');
  });

  it('refuses an unsupported encryption algorithm', async () => {
    const kw = FIGURE6.replaceAll('xmlenc#aes128-cbc', 'xmlenc#kw-aes128');
    expect((await importError(importPskc(kw, { preSharedKey: PRE_SHARED_KEY }))).code).toBe('ERR_PSKC_UNSUPPORTED');
  });
});

describe('RFC 6030 Figure 7: PBKDF2 password "qwerty", AES-128-CBC, HMAC-SHA1', () => {
  it('decrypts the seed with the password', async () => {
    expect(await importPskc(FIGURE7, { password: 'qwerty' })).toEqual([
      {
        serial: '987654321',
        manufacturer: 'TokenVendorAcme',
        algorithm: 'hotp',
        secret: RFC_SEED,
        digits: 8,
        counter: 0,
        issuer: 'Example-Issuer',
      },
    ]);
  });

  it('asks for the password when none is given', async () => {
    expect((await importError(importPskc(FIGURE7))).code).toBe('ERR_PSKC_KEY_REQUIRED');
  });

  it('refuses a wrong password with the same error as a wrong key, never echoing it', async () => {
    const err = await importError(importPskc(FIGURE7, { password: 'qwertz' }));
    expect(err.code).toBe('ERR_PSKC_DECRYPT');
    expectNoSecret(err, 'qwertz', 'qwerty', RFC_SEED.toString('hex'));
  });

  it('refuses an absurd iteration count (a denial of service, not a key)', async () => {
    const slow = FIGURE7.replace('<IterationCount>1000</IterationCount>', '<IterationCount>999999999</IterationCount>');
    expect((await importError(importPskc(slow, { password: 'qwerty' }))).code).toBe('ERR_PSKC_UNSUPPORTED');
  });

  it('derives the key off the event loop: other work goes on during a slow derivation', async () => {
    // 1,000,000 iterations: about half a second of PBKDF2, which must not stall the requests served meanwhile.
    const slow = FIGURE7.replace('<IterationCount>1000</IterationCount>', '<IterationCount>1000000</IterationCount>');
    const order: string[] = [];
    const importing = importPskc(slow, { password: 'qwerty' }).then(
      () => order.push('imported'),
      () => order.push('refused'),
    );
    setImmediate(() => order.push('other work'));
    await importing;
    // The same password with another iteration count derives another key: wrong key, not a stalled loop.
    expect(order).toEqual(['other work', 'refused']);
  });
});

describe('other algorithms and encryptions (fixtures built here, not from the RFC)', () => {
  const withAlgorithm = (algorithm: string, extra = '') =>
    FIGURE3.replace('urn:ietf:params:xml:ns:keyprov:pskc:hotp', algorithm).replace('<Counter>', `${extra}<Counter>`);

  it('reads a TOTP key and its time interval', async () => {
    const [seed] = await importPskc(
      withAlgorithm('urn:ietf:params:xml:ns:keyprov:pskc:totp', '<TimeInterval><PlainValue>60</PlainValue></TimeInterval>'),
    );
    expect(seed).toMatchObject({ algorithm: 'totp', digits: 8, timeStep: 60 });
    expect(seed!.counter).toBeUndefined();
  });

  it('defaults a TOTP time interval to 30 s, and reads a SHA-256 Suite', async () => {
    const xml = withAlgorithm('urn:ietf:params:xml:ns:keyprov:pskc#totp').replace(
      '<ResponseFormat',
      '<Suite>HMAC-SHA256</Suite><ResponseFormat',
    );
    expect((await importPskc(xml))[0]).toMatchObject({ algorithm: 'totp', timeStep: 30, hash: 'SHA256' });
  });

  it('reads an OCRA key named by its suite, with its counter', async () => {
    const [seed] = await importPskc(withAlgorithm('urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA512-8:C-QN08'));
    expect(seed).toMatchObject({ algorithm: 'ocra', ocraSuite: 'OCRA-1:HOTP-SHA512-8:C-QN08', digits: 8, counter: 0 });
  });

  it('refuses an OCRA key whose ResponseFormat disagrees with its suite, or whose suite is invalid', async () => {
    expect((await importError(importPskc(withAlgorithm('urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-6:QN08')))).code).toBe(
      'ERR_PSKC_INVALID',
    );
    expect((await importError(importPskc(withAlgorithm('urn:ietf:params:xml:ns:keyprov:pskc#OCRA-1:HOTP-SHA1-8:QN99')))).code).toBe(
      'ERR_PSKC_INVALID',
    );
  });

  it('decrypts AES-256-CBC with HMAC-SHA256 and PBKDF2-HMAC-SHA256, including an encrypted counter', async () => {
    const password = 'correct horse';
    const salt = randomBytes(16);
    const key = pbkdf2Sync(password, salt, 2000, 32, 'sha256');
    const macKey = randomBytes(32);
    const seed = randomBytes(32);
    const encrypt = (plain: Buffer) => {
      const iv = randomBytes(16);
      const c = createCipheriv('aes-256-cbc', key, iv);
      return Buffer.concat([iv, c.update(plain), c.final()]);
    };
    const encryptedValue = (plain: Buffer) => {
      const cv = encrypt(plain);
      return `<EncryptedValue><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>
        <xenc:CipherData><xenc:CipherValue>${cv.toString('base64')}</xenc:CipherValue></xenc:CipherData></EncryptedValue>
        <ValueMAC>${createHmac('sha256', macKey).update(cv).digest('base64')}</ValueMAC>`;
    };
    const xml = `<?xml version="1.0"?>
      <KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"
        xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" xmlns:pkcs5="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#">
        <EncryptionKey><xenc11:DerivedKey><xenc11:KeyDerivationMethod Algorithm="http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2">
          <pkcs5:PBKDF2-params><Salt><Specified>${salt.toString('base64')}</Specified></Salt><IterationCount>2000</IterationCount>
          <KeyLength>32</KeyLength><PRF Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/></pkcs5:PBKDF2-params>
        </xenc11:KeyDerivationMethod></xenc11:DerivedKey></EncryptionKey>
        <MACMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"><MACKey>
          <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>
          <xenc:CipherData><xenc:CipherValue>${encrypt(macKey).toString('base64')}</xenc:CipherValue></xenc:CipherData>
        </MACKey></MACMethod>
        <KeyPackage><DeviceInfo><Manufacturer>Acme</Manufacturer><SerialNo>X-1</SerialNo><Model>Key 2</Model></DeviceInfo>
          <Key Id="k1" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
            <Data><Secret>${encryptedValue(seed)}</Secret><Counter>${encryptedValue(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]))}</Counter></Data>
          </Key></KeyPackage>
      </KeyContainer>`;
    expect(await importPskc(xml, { password })).toEqual([
      { serial: 'X-1', manufacturer: 'Acme', model: 'Key 2', algorithm: 'hotp', secret: seed, digits: 6, counter: 258 },
    ]);
    expect((await importError(importPskc(xml, { password: 'wrong horse' }))).code).toBe('ERR_PSKC_DECRYPT');
  });
});

describe('malformed files', () => {
  it.each([
    ['not XML at all', 'this is not xml'],
    ['an unclosed element', '<KeyContainer Version="1.0"><KeyPackage></KeyContainer>'],
    ['another document type', '<?xml version="1.0"?><html><body/></html>'],
    ['a DOCTYPE (entity expansion)', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><KeyContainer Version="1.0"/>'],
  ])('%s is ERR_PSKC_XML', async (_, xml) => {
    expect((await importError(importPskc(xml))).code).toBe('ERR_PSKC_XML');
  });

  it('a bad XML error gives the position, not the content', async () => {
    const broken = FIGURE3.replace('</PlainValue>', '</PlainValu>');
    const err = await importError(importPskc(broken));
    expect(err.code).toBe('ERR_PSKC_XML');
    expect(err.message).toMatch(/line \d+, column \d+/);
    expectNoSecret(err, 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=');
  });

  it('a secret that is not base64 is ERR_PSKC_INVALID, without the value', async () => {
    const err = await importError(importPskc(FIGURE3.replace('MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=', 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA*')));
    expect(err.code).toBe('ERR_PSKC_INVALID');
    expectNoSecret(err, 'MTIzNDU2Nzg5MDEyMzQ1Njc4OTA');
  });

  it('an unsupported version or response encoding is ERR_PSKC_UNSUPPORTED', async () => {
    expect((await importError(importPskc(FIGURE3.replace('Version="1.0"', 'Version="2.0"')))).code).toBe('ERR_PSKC_UNSUPPORTED');
    expect((await importError(importPskc(FIGURE3.replace('Encoding="DECIMAL"', 'Encoding="HEXADECIMAL"')))).code).toBe(
      'ERR_PSKC_UNSUPPORTED',
    );
  });

  it('a key without a secret, or with a malformed counter, is ERR_PSKC_INVALID', async () => {
    expect((await importError(importPskc(FIGURE3.replace(/<Secret>[\s\S]*?<\/Secret>/, '')))).code).toBe('ERR_PSKC_INVALID');
    expect((await importError(importPskc(FIGURE3.replace('<PlainValue>0</PlainValue>', '<PlainValue>-1</PlainValue>')))).code).toBe(
      'ERR_PSKC_INVALID',
    );
  });

  it('an encrypted file without an EncryptionKey is ERR_PSKC_INVALID', async () => {
    const noKey = FIGURE6.replace(/<EncryptionKey>[\s\S]*?<\/EncryptionKey>/, '');
    expect((await importError(importPskc(noKey, { preSharedKey: PRE_SHARED_KEY }))).code).toBe('ERR_PSKC_INVALID');
  });
});
