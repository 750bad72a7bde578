import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of secrets at rest (TOTP/HOTP seeds, signing keys, webhook secrets) with a
 * key-encryption key (KEK). AES-256-GCM; the associated data binds a ciphertext to its row so that a
 * sealed seed copied onto another authenticator does not open. Several KEKs may be loaded: the first
 * seals, any opens, so keys rotate without downtime (`sesame keys reseal` re-encrypts under the new one).
 *
 * Format: `<kid>.<iv b64url>.<ciphertext‖tag b64url>`.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class Sealer {
  readonly #keys: Map<string, Buffer>;
  readonly activeKeyId: string;

  constructor(keks: readonly { id: string; key: Buffer }[]) {
    if (keks.length === 0) throw new Error('At least one key-encryption key is needed.');
    this.#keys = new Map(keks.map((k) => [k.id, k.key]));
    // A reused id would hide one key behind the other: values sealed under the hidden one would not open.
    if (this.#keys.size !== keks.length) throw new Error('Two key-encryption keys have the same id.');
    this.activeKeyId = keks[0]!.id;
  }

  seal(plaintext: Buffer | string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.activeKeyId)!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${this.activeKeyId}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
  }

  open(sealed: string, context: string): Buffer {
    const [kid, ivB64, ctB64] = sealed.split('.');
    const key = kid ? this.#keys.get(kid) : undefined;
    if (!key || !ivB64 || !ctB64) throw new Error(`Cannot open a sealed secret (key ${kid ?? '?'} not loaded).`);
    const data = Buffer.from(ctB64, 'base64url');
    const iv = Buffer.from(ivB64, 'base64url');
    // A full 128-bit tag and a 96-bit IV, always: GCM would otherwise accept a truncated tag.
    if (iv.length !== IV_BYTES || data.length < TAG_BYTES) throw new Error('Cannot open a sealed secret (malformed).');
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]);
  }

  /** The key id a sealed value was sealed with (for re-sealing after rotation). */
  static keyIdOf(sealed: string): string {
    return sealed.split('.')[0] ?? '';
  }
}
