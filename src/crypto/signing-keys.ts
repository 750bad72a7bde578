import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createPrivateKey, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Db } from '../store/db.js';
import type { Sealer } from './seal.js';

/**
 * Keys that sign authentication codes (ES256 JWS). Private keys are sealed at rest; public keys are
 * published at `/.well-known/jwks.json`. Rotation adds a new key that signs from then on; retired keys
 * stay published long enough for codes they signed to expire.
 */
const ALG = 'ES256';

interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
}

export class SigningKeys {
  #active: LoadedKey | null = null;
  #jwks: { keys: JWK[] } = { keys: [] };
  #keySet = createLocalJWKSet(this.#jwks);
  #loadedAt = 0;
  #refreshing: Promise<void> | null = null;
  #forcedAt = 0;
  #forced: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {}

  /**
   * Loads keys (creating the first one) when none is loaded; afterwards refreshes in the background at
   * most every 30 s to pick up a rotation by another process. It never makes a caller wait on the
   * database once a key is loaded, so it is safe inside a transaction (the embedded database has a
   * single connection).
   */
  async ensureLoaded(): Promise<void> {
    if (!this.#active) return this.#load();
    if (Date.now() - this.#loadedAt >= 30_000 && !this.#refreshing) {
      this.#loadedAt = Date.now();
      this.#refreshing = this.#load()
        .catch(() => undefined)
        .finally(() => (this.#refreshing = null));
    }
  }

  /**
   * A code names a key this process has not loaded: another process rotated (or several started on an
   * empty database at once). Loads the keys again, at most once a second however many such codes arrive
   * (they share that one load), so made-up key ids cannot drive the database.
   */
  async reloadForUnknownKey(): Promise<void> {
    if (!this.#forced || Date.now() - this.#forcedAt >= 1000) {
      this.#forcedAt = Date.now();
      this.#forced = this.#load().catch(() => undefined);
    }
    await this.#forced;
  }

  async #load(): Promise<void> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').execute();
    if (rows.length === 0) {
      await this.rotate(); // creates the first key, then loads it
      return;
    }
    const current = rows.find((r) => r.retired_at === null) ?? rows[0]!;
    const jwk = JSON.parse(this.sealer.open(current.private_sealed, `signing-key:${current.kid}`).toString('utf8')) as JsonWebKey;
    this.#active = { kid: current.kid, privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
    const now = this.clock.now().getTime();
    // Publish the active key and keys retired less than a day ago (codes live minutes).
    this.#jwks = {
      keys: rows
        .filter((r) => r.retired_at === null || now - new Date(r.retired_at).getTime() < 86_400_000)
        .map((r) => ({ ...(r.public_jwk as JWK), kid: r.kid, alg: ALG, use: 'sig' })),
    };
    // Built once per load: the set keeps each public key imported, rather than importing it per code.
    this.#keySet = createLocalJWKSet(this.#jwks);
    this.#loadedAt = Date.now();
  }

  /** Creates a new signing key and retires the previous ones. */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    const now = this.clock.now();
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
      await tx
        .insertInto('signing_keys')
        .values({
          kid,
          alg: ALG,
          public_jwk: JSON.stringify(await exportJWK(publicKey)),
          private_sealed: this.sealer.seal(JSON.stringify(await exportJWK(privateKey)), `signing-key:${kid}`),
          created_at: now,
        })
        .execute();
    });
    await this.#load();
    return kid;
  }

  jwks(): { keys: JWK[] } {
    return this.#jwks;
  }

  /** The published keys as jose's key set, to verify codes with. */
  keySet(): ReturnType<typeof createLocalJWKSet> {
    return this.#keySet;
  }

  async sign(
    claims: Record<string, unknown>,
    opts: { issuer: string; audience: string; subject: string; jti: string; expiresAt: Date },
  ): Promise<string> {
    await this.ensureLoaded();
    const key = this.#active!;
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const registered = {
      iss: opts.issuer,
      aud: opts.audience,
      sub: opts.subject,
      jti: opts.jti,
      iat,
      exp: Math.floor(opts.expiresAt.getTime() / 1000),
    };
    return compactJws(key, 'sesame-ac+jwt', { ...claims, ...registered });
  }

  /**
   * Signs a document that is not an authentication code (the offline mode's QR), with its own `typ` so
   * that a verifier of authentication codes can never take one for the other.
   */
  async signDocument(payload: Record<string, unknown>, typ: string): Promise<string> {
    if (typ === 'sesame-ac+jwt') throw new TypeError('Authentication codes are signed by sign().');
    await this.ensureLoaded();
    return compactJws(this.#active!, typ, payload);
  }
}

/**
 * A JWS in compact serialisation (RFC 7515 §7.1): the base64url of the header, of the payload and of the
 * ES256 signature over the first two (R ‖ S, RFC 7518 §3.4). Signed by node:crypto in one synchronous
 * call: jose signs through WebCrypto, whose asynchronous job costs more than twice the CPU of the
 * signature itself, on every authentication code. Verification stays with jose (and the tests check
 * every kind of token this signs with it).
 */
function compactJws(key: LoadedKey, typ: string, payload: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ alg: ALG, kid: key.kid, typ })).toString('base64url');
  const signingInput = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${signature.toString('base64url')}`;
}
