import { createDecipheriv, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { SesameError } from '../../core/errors.js';
import { parseOcraSuite } from '../ocra/ocra.js';

/**
 * Import of hardware-token seeds from a PSKC file (RFC 6030), as token vendors ship them: plaintext,
 * encrypted with a pre-shared AES key, or with a key derived from a password (PBKDF2). Pure: the
 * caller seals the returned secrets before storing them. Errors never carry secret material.
 */

export type TokenAlgorithm = 'hotp' | 'totp' | 'ocra';

/** One token seed, whatever file it came from (PSKC or CSV). */
export interface TokenSeed {
  serial: string;
  manufacturer?: string;
  model?: string;
  algorithm: TokenAlgorithm;
  secret: Buffer;
  /** Response length (decimal digits). */
  digits: number;
  /** HOTP, and OCRA suites with `C`: the token's next counter. */
  counter?: number;
  /** TOTP (and OCRA suites with `T`): seconds per time step. */
  timeStep?: number;
  ocraSuite?: string;
  issuer?: string;
  /** HMAC hash when the file names one other than the default SHA1 (PSKC `Suite`). */
  hash?: 'SHA1' | 'SHA256' | 'SHA512';
}

/**
 * A file that cannot be imported. Codes: `ERR_PSKC_XML` (not well-formed PSKC), `ERR_PSKC_KEY_REQUIRED`
 * (encrypted, no key or password given), `ERR_PSKC_DECRYPT` (wrong key or password, or altered data:
 * the two cannot be told apart), `ERR_PSKC_UNSUPPORTED`, `ERR_PSKC_INVALID`, `ERR_TOKEN_CSV`.
 */
export class TokenImportError extends SesameError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, 422, message, details);
  }
}

export interface PskcOptions {
  /** For files encrypted with a pre-shared key (`ds:KeyName`): the raw AES key. */
  preSharedKey?: Buffer;
  /** For files encrypted with a key derived from a password (`DerivedKey`, PBKDF2). */
  password?: string;
}

const MAX_XML_CHARS = 20_000_000;
/** A file from outside must not tie up the server: vendors use 1 000–100 000 iterations. */
const MAX_PBKDF2_ITERATIONS = 2_000_000;
const PSKC_URN = 'urn:ietf:params:xml:ns:keyprov:pskc';
const PBKDF2_URI = 'http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2';
const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc': { name: 'aes-128-cbc', keyLength: 16 },
  'http://www.w3.org/2001/04/xmlenc#aes192-cbc': { name: 'aes-192-cbc', keyLength: 24 },
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc': { name: 'aes-256-cbc', keyLength: 32 },
};
/** MAC algorithms, also the PBKDF2 PRF names (same URIs). */
const HMACS: Record<string, string> = {
  'http://www.w3.org/2000/09/xmldsig#hmac-sha1': 'sha1',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha384': 'sha384',
  'http://www.w3.org/2001/04/xmldsig-more#hmac-sha512': 'sha512',
};

type XmlNode = Record<string, unknown>;

/**
 * Reads every HOTP, TOTP and OCRA key of a PSKC document. Namespace prefixes are ignored (vendors
 * use `pskc:`, a default namespace, or others). Encrypted values must carry a `ValueMAC`: AES-CBC
 * alone does not detect an altered file.
 *
 * @example
 * const seeds = await importPskc(xml, { password: 'qwerty' });
 * // [{ serial: '987654321', manufacturer: 'TokenVendorAcme', algorithm: 'hotp', secret: <Buffer …>, digits: 8, counter: 0, issuer: 'Example-Issuer' }]
 */
export async function importPskc(xml: string, options: PskcOptions = {}): Promise<TokenSeed[]> {
  const container = parseContainer(xml);
  const passwordKey = await derivePasswordKey(el(container, 'EncryptionKey'), options.password);
  const crypto = containerCrypto(container, options, passwordKey);
  const seeds: TokenSeed[] = [];
  for (const pkg of all(container, 'KeyPackage')) {
    const device = el(pkg, 'DeviceInfo');
    for (const key of all(pkg, 'Key')) seeds.push(readKey(key, device, crypto));
  }
  return seeds;
}

function parseContainer(xml: string): XmlNode {
  if (typeof xml !== 'string' || xml.length > MAX_XML_CHARS)
    throw new TokenImportError('ERR_PSKC_XML', 'The PSKC file is empty or too large.');
  // No DTDs at all: PSKC needs none, and entity expansion is a denial-of-service vector.
  if (/<!DOCTYPE/i.test(xml)) throw new TokenImportError('ERR_PSKC_XML', 'The PSKC file must not contain a DOCTYPE.');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    // Only the position: the validator's message may quote the file's content.
    throw new TokenImportError('ERR_PSKC_XML', `The PSKC file is not well-formed XML (line ${valid.err.line}, column ${valid.err.col}).`);
  }
  const doc = new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
  }).parse(xml) as XmlNode;
  const container = el(doc, 'KeyContainer');
  if (!container) throw new TokenImportError('ERR_PSKC_XML', 'The file is not a PSKC document (no KeyContainer).');
  const version = attr(container, 'Version');
  if (version !== undefined && version !== '1.0')
    throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `Unsupported PSKC version "${version}".`);
  return container;
}

/** Opens encrypted values of one container: the encryption key and MAC key are resolved once, on first use. */
interface ContainerCrypto {
  open(value: XmlNode, field: string, keyId: string): Buffer;
}

function containerCrypto(container: XmlNode, options: PskcOptions, passwordKey: Buffer | undefined): ContainerCrypto {
  let encryptionKey: Buffer | undefined;
  let macKey: { key: Buffer; algorithm: string } | undefined;
  const getKey = () => (encryptionKey ??= resolveEncryptionKey(el(container, 'EncryptionKey'), options, passwordKey));
  const getMac = () => (macKey ??= resolveMacKey(el(container, 'MACMethod'), getKey()));
  return {
    open(value, field, keyId) {
      const encrypted = el(value, 'EncryptedValue')!;
      const cipherValue = base64(text(el(el(encrypted, 'CipherData'), 'CipherValue')), `${field} CipherValue`, keyId);
      const valueMac = text(el(value, 'ValueMAC'));
      if (valueMac === undefined) {
        throw new TokenImportError('ERR_PSKC_INVALID', `The encrypted ${field} of key ${keyId} has no ValueMAC.`, { keyId });
      }
      const mac = getMac();
      // RFC 6030 §6.1.1: the MAC covers the CipherValue (IV ‖ ciphertext); check it before decrypting.
      const expected = createHmac(mac.algorithm, mac.key).update(cipherValue).digest();
      const given = base64(valueMac, `${field} ValueMAC`, keyId);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw decryptFailed();
      return decrypt(cipherValue, attr(el(encrypted, 'EncryptionMethod'), 'Algorithm'), getKey());
    },
  };
}

function resolveEncryptionKey(encryptionKey: XmlNode | undefined, options: PskcOptions, passwordKey: Buffer | undefined): Buffer {
  if (!encryptionKey) throw new TokenImportError('ERR_PSKC_INVALID', 'The file has encrypted values but no EncryptionKey.');
  if (el(encryptionKey, 'DerivedKey')) {
    if (!passwordKey) throw new TokenImportError('ERR_PSKC_KEY_REQUIRED', 'This PSKC file is protected by a password.');
    return passwordKey;
  }
  const keyName = text(el(encryptionKey, 'KeyName'));
  if (keyName !== undefined) {
    if (!options.preSharedKey) {
      throw new TokenImportError('ERR_PSKC_KEY_REQUIRED', `This PSKC file is encrypted with the pre-shared key "${keyName}".`, { keyName });
    }
    return options.preSharedKey;
  }
  throw new TokenImportError('ERR_PSKC_UNSUPPORTED', 'Only pre-shared-key and password (PBKDF2) encryption are supported.');
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * The key of a password-protected file, derived before the keys are read: up to 2 million iterations
 * run on the thread pool, so an import never stalls the requests the server is answering meanwhile.
 */
async function derivePasswordKey(encryptionKey: XmlNode | undefined, password: string | undefined): Promise<Buffer | undefined> {
  const derived = el(encryptionKey, 'DerivedKey');
  if (!derived || password === undefined) return undefined;
  const method = el(derived, 'KeyDerivationMethod');
  if (attr(method, 'Algorithm') !== PBKDF2_URI)
    throw new TokenImportError('ERR_PSKC_UNSUPPORTED', 'Only PBKDF2 key derivation is supported.');
  const params = el(method, 'PBKDF2-params');
  const salt = base64(text(el(el(params, 'Salt'), 'Specified')), 'PBKDF2 salt', null);
  const iterations = integer(text(el(params, 'IterationCount')), 'PBKDF2 IterationCount', null);
  if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `PBKDF2 IterationCount must be from 1 to ${MAX_PBKDF2_ITERATIONS}.`);
  }
  const keyLengthText = text(el(params, 'KeyLength'));
  const keyLength = keyLengthText === undefined ? 16 : integer(keyLengthText, 'PBKDF2 KeyLength', null);
  if (![16, 24, 32].includes(keyLength)) throw new TokenImportError('ERR_PSKC_UNSUPPORTED', 'PBKDF2 KeyLength must be 16, 24 or 32.');
  const prfUri = attr(el(params, 'PRF'), 'Algorithm');
  // RFC 8018: the PRF defaults to HMAC-SHA1.
  const prf = prfUri === undefined || prfUri === '' ? 'sha1' : HMACS[prfUri];
  if (!prf) throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `Unsupported PBKDF2 PRF "${prfUri}".`);
  return pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, keyLength, prf);
}

function resolveMacKey(method: XmlNode | undefined, encryptionKey: Buffer): { key: Buffer; algorithm: string } {
  if (!method) throw new TokenImportError('ERR_PSKC_INVALID', 'The file has encrypted values but no MACMethod.');
  const uri = attr(method, 'Algorithm') ?? '';
  const algorithm = HMACS[uri];
  if (!algorithm) throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `Unsupported MAC algorithm "${uri}".`);
  const macKey = el(method, 'MACKey');
  if (!macKey) throw new TokenImportError('ERR_PSKC_UNSUPPORTED', 'Only a MACKey carried in the file is supported.');
  const cipherValue = base64(text(el(el(macKey, 'CipherData'), 'CipherValue')), 'MACKey CipherValue', null);
  const key = decrypt(cipherValue, attr(el(macKey, 'EncryptionMethod'), 'Algorithm'), encryptionKey);
  if (key.length === 0) throw decryptFailed();
  return { key, algorithm };
}

/** xmlenc CBC: the IV is the first block of the CipherValue, PKCS#7 padding. */
function decrypt(cipherValue: Buffer, uri: string | undefined, key: Buffer): Buffer {
  const cipher = CIPHERS[uri ?? ''];
  if (!cipher) throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `Unsupported encryption algorithm "${uri ?? '(none)'}".`);
  if (key.length !== cipher.keyLength)
    throw new TokenImportError('ERR_PSKC_DECRYPT', `The key must be ${cipher.keyLength} bytes for ${cipher.name}.`);
  if (cipherValue.length < 32 || cipherValue.length % 16 !== 0)
    throw new TokenImportError('ERR_PSKC_INVALID', 'A CipherValue is not IV ‖ whole AES blocks.');
  try {
    const decipher = createDecipheriv(cipher.name, key, cipherValue.subarray(0, 16));
    return Buffer.concat([decipher.update(cipherValue.subarray(16)), decipher.final()]);
  } catch {
    throw decryptFailed(); // bad padding: wrong key, or altered data
  }
}

function decryptFailed(): TokenImportError {
  return new TokenImportError('ERR_PSKC_DECRYPT', 'The PSKC file could not be decrypted: wrong key or password, or the file was altered.');
}

function readKey(key: XmlNode, device: XmlNode | undefined, crypto: ContainerCrypto): TokenSeed {
  const keyId = attr(key, 'Id') ?? '(no Id)';
  const serial = text(el(device, 'SerialNo')) ?? attr(key, 'Id');
  if (!serial) throw new TokenImportError('ERR_PSKC_INVALID', 'A key has neither a device SerialNo nor an Id.');
  const { algorithm, suite } = keyAlgorithm(attr(key, 'Algorithm'), text(el(el(key, 'AlgorithmParameters'), 'Suite')), keyId);
  const data = el(key, 'Data');
  const secret = readValue(el(data, 'Secret'), 'Secret', keyId, crypto, 'binary');
  if (!secret || secret.length === 0) throw new TokenImportError('ERR_PSKC_INVALID', `Key ${keyId} has no secret.`, { keyId });

  const seed: TokenSeed = { serial, algorithm, secret, digits: responseDigits(key, keyId, suite?.digits) };
  const manufacturer = text(el(device, 'Manufacturer'));
  const model = text(el(device, 'Model'));
  const issuer = text(el(key, 'Issuer'));
  if (manufacturer) seed.manufacturer = manufacturer;
  if (model) seed.model = model;
  if (issuer) seed.issuer = issuer;
  const counter = () => readInteger(el(data, 'Counter'), 'Counter', keyId, crypto) ?? 0;
  if (algorithm === 'hotp') seed.counter = counter();
  if (algorithm === 'totp') {
    seed.timeStep = readInteger(el(data, 'TimeInterval'), 'TimeInterval', keyId, crypto) ?? 30;
    if (seed.timeStep < 1) throw new TokenImportError('ERR_PSKC_INVALID', `Key ${keyId} has a TimeInterval below 1.`, { keyId });
  }
  if (suite) {
    seed.ocraSuite = suite.text;
    if (suite.counter) seed.counter = counter();
    if (suite.timeStep !== null) seed.timeStep = suite.timeStep;
  } else {
    const hash = hashFromSuite(text(el(el(key, 'AlgorithmParameters'), 'Suite')), keyId);
    if (hash) seed.hash = hash;
  }
  return seed;
}

function keyAlgorithm(uri: string | undefined, suiteText: string | undefined, keyId: string) {
  const name = uri?.startsWith(PSKC_URN) && /^[:#]/.test(uri.slice(PSKC_URN.length)) ? uri.slice(PSKC_URN.length + 1) : '';
  if (name === 'hotp' || name === 'totp') return { algorithm: name, suite: null } as const;
  // draft-hoyer-keyprov-pskc-algorithm-profiles names OCRA keys by their suite: `…pskc#OCRA-1:HOTP-SHA1-6:QN08`.
  const ocraSuite = name.startsWith('OCRA-1:') ? name : name.toLowerCase() === 'ocra' ? (suiteText ?? '') : undefined;
  if (ocraSuite === '') throw new TokenImportError('ERR_PSKC_INVALID', `OCRA key ${keyId} has no Suite.`, { keyId });
  if (ocraSuite !== undefined) {
    try {
      return { algorithm: 'ocra', suite: parseOcraSuite(ocraSuite) } as const;
    } catch (err) {
      throw new TokenImportError('ERR_PSKC_INVALID', `Key ${keyId}: ${(err as Error).message}`, { keyId });
    }
  }
  throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `Key ${keyId} uses the unsupported algorithm "${uri ?? '(none)'}".`, {
    keyId,
    algorithm: uri,
  });
}

function hashFromSuite(suite: string | undefined, keyId: string): TokenSeed['hash'] {
  if (suite === undefined) return undefined;
  const m = /SHA-?(1|256|512)$/i.exec(suite);
  if (!m) throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `Key ${keyId} has an unsupported Suite "${suite}".`, { keyId });
  return `SHA${m[1]}` as TokenSeed['hash'];
}

function responseDigits(key: XmlNode, keyId: string, ocraDigits: number | undefined): number {
  const format = el(el(key, 'AlgorithmParameters'), 'ResponseFormat');
  const encoding = attr(format, 'Encoding');
  if (encoding !== undefined && encoding !== 'DECIMAL') {
    throw new TokenImportError('ERR_PSKC_UNSUPPORTED', `Key ${keyId} has a ${encoding} response format; only DECIMAL is supported.`, {
      keyId,
    });
  }
  const length = attr(format, 'Length');
  const digits = length === undefined ? (ocraDigits ?? 6) : integer(length, 'ResponseFormat Length', keyId);
  if (ocraDigits !== undefined) {
    if (digits !== ocraDigits)
      throw new TokenImportError('ERR_PSKC_INVALID', `Key ${keyId}: ResponseFormat disagrees with the OCRA suite.`, { keyId });
    return digits;
  }
  if (digits < 6 || digits > 10)
    throw new TokenImportError('ERR_PSKC_INVALID', `Key ${keyId} has ${digits} digits; 6 to 10 are supported.`, { keyId });
  return digits;
}

/** A PSKC value: `PlainValue` (base64 for binary, decimal for integers) or `EncryptedValue` + `ValueMAC`. */
function readValue(value: XmlNode | undefined, field: string, keyId: string, crypto: ContainerCrypto, kind: 'binary'): Buffer | undefined;
function readValue(
  value: XmlNode | undefined,
  field: string,
  keyId: string,
  crypto: ContainerCrypto,
  kind: 'integer',
): Buffer | string | undefined;
function readValue(value: XmlNode | undefined, field: string, keyId: string, crypto: ContainerCrypto, kind: 'binary' | 'integer') {
  if (!value) return undefined;
  if (el(value, 'EncryptedValue')) return crypto.open(value, field, keyId);
  const plain = text(el(value, 'PlainValue'));
  if (plain === undefined) return undefined;
  return kind === 'binary' ? base64(plain, field, keyId) : plain;
}

function readInteger(value: XmlNode | undefined, field: string, keyId: string, crypto: ContainerCrypto): number | undefined {
  const v = readValue(value, field, keyId, crypto, 'integer');
  if (v === undefined) return undefined;
  if (typeof v === 'string') return integer(v, field, keyId);
  // RFC 6030 §4.2: an encrypted integer is its big-endian bytes.
  if (v.length === 0 || v.length > 8) throw new TokenImportError('ERR_PSKC_INVALID', `Key ${keyId} has a malformed ${field}.`, { keyId });
  const n = v.reduce((acc, byte) => acc * 256n + BigInt(byte), 0n);
  if (n > BigInt(Number.MAX_SAFE_INTEGER))
    throw new TokenImportError('ERR_PSKC_INVALID', `Key ${keyId} has a ${field} out of range.`, { keyId });
  return Number(n);
}

function integer(value: string | undefined, field: string, keyId: string | null): number {
  if (value === undefined || !/^[0-9]{1,15}$/.test(value.trim())) {
    throw malformed(`${field}`, keyId);
  }
  return Number(value.trim());
}

/** Strict base64 (whitespace between lines allowed). The value itself never appears in the error. */
function base64(value: string | undefined, field: string, keyId: string | null): Buffer {
  const compact = value?.replace(/\s+/g, '') ?? '';
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw malformed(`${field} (base64 expected)`, keyId);
  }
  return Buffer.from(compact, 'base64');
}

/** `keyId` null: a container-level field (encryption parameters). */
function malformed(field: string, keyId: string | null): TokenImportError {
  const where = keyId === null ? 'The file' : `Key ${keyId}`;
  return new TokenImportError('ERR_PSKC_INVALID', `${where} has a missing or malformed ${field}.`, keyId === null ? {} : { keyId });
}

/** The first child element `name`, as an object (text-only elements become `{ '#text': … }`). */
function el(node: XmlNode | undefined, name: string): XmlNode | undefined {
  if (!node || !Object.hasOwn(node, name)) return undefined;
  const value = Array.isArray(node[name]) ? (node[name] as unknown[])[0] : node[name];
  if (typeof value === 'string') return { '#text': value };
  return value !== null && typeof value === 'object' ? (value as XmlNode) : undefined;
}

function all(node: XmlNode, name: string): XmlNode[] {
  if (!Object.hasOwn(node, name)) return [];
  const values = Array.isArray(node[name]) ? (node[name] as unknown[]) : [node[name]];
  return values.map((v) => (typeof v === 'string' ? { '#text': v } : (v as XmlNode)));
}

function text(node: XmlNode | undefined): string | undefined {
  const value = node?.['#text'];
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function attr(node: XmlNode | undefined, name: string): string | undefined {
  const value = node?.[`@_${name}`];
  return typeof value === 'string' ? value : undefined;
}
