import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software WebAuthn authenticator for tests: ECDSA P-256 keys from node:crypto, authenticator data and
 * a 'none' attestation CBOR-encoded with @simplewebauthn's own encoder, answers serialised the way
 * @simplewebauthn/browser does. Every knob a test needs to misbehave: no user verification, another
 * origin, a counter that goes backwards, a challenge of its choosing.
 *
 * @example
 * const key = new SoftAuthenticator({ rpId: 'bank.test', origin: 'https://bank.test' });
 * const registration = key.create(creationOptions);
 * const assertion = key.get(requestOptions);
 */
export interface SoftCredential {
  id: string;
  privateKey: KeyObject;
  counter: number;
  /** The user id of the registration options (base64url): a discoverable credential returns it. */
  userHandle: string;
}

const b64u = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | Buffer | string) => createHash('sha256').update(b).digest();

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  constructor(
    private readonly opts: {
      rpId: string;
      origin: string;
      /** Model, as a UUID; all zeros by default. */
      aaguid?: string;
      /** Counter step per assertion; 0 for an authenticator without a counter. */
      counterStep?: number;
      transports?: string[];
    },
  ) {}

  /** navigator.credentials.create(): a new credential, 'none' attestation. */
  create(
    options: { challenge: string; rp: { id?: string }; user?: { id: string } },
    o: { userVerified?: boolean; origin?: string } = {},
  ): Record<string, unknown> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    const id = randomBytes(32);
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x, 'base64url')],
        [-3, Buffer.from(jwk.y, 'base64url')],
      ]),
    );
    const aaguid = Buffer.from((this.opts.aaguid ?? '00000000-0000-0000-0000-000000000000').replace(/-/g, ''), 'hex');
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      this.authDataHead(options.rp.id ?? this.opts.rpId, FLAG_UP | (o.userVerified === false ? 0 : FLAG_UV) | FLAG_AT, 0),
      aaguid,
      idLen,
      id,
      Buffer.from(cose),
    ]);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Uint8Array | Map<string, string>>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    const clientDataJSON = this.clientData('webauthn.create', options.challenge, o.origin);
    const credential: SoftCredential = {
      id: b64u(id),
      privateKey: createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })),
      counter: 0,
      userHandle: options.user?.id ?? b64u(Buffer.from('user')),
    };
    this.credentials.push(credential);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(Buffer.from(clientDataJSON)),
        attestationObject: b64u(attestationObject),
        transports: this.opts.transports ?? ['internal'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /**
   * navigator.credentials.get(): an assertion over `challenge` with the first allowed credential this
   * authenticator holds. `counter` forces the signature counter (a clone replaying an old one).
   */
  get(
    options: { challenge: string; rpId?: string; allowCredentials?: { id: string }[] },
    o: {
      userVerified?: boolean;
      origin?: string;
      counter?: number;
      challenge?: string;
      credential?: SoftCredential;
      /** base64url; by default the credential's own. */
      userHandle?: string;
    } = {},
  ): Record<string, unknown> {
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const credential = o.credential ?? this.credentials.find((c) => !allowed.size || allowed.has(c.id));
    if (!credential) throw new Error('no credential of this authenticator is allowed');
    if (o.counter !== undefined) credential.counter = o.counter;
    else credential.counter += this.opts.counterStep ?? 1;
    const authData = this.authDataHead(
      options.rpId ?? this.opts.rpId,
      FLAG_UP | (o.userVerified === false ? 0 : FLAG_UV),
      credential.counter,
    );
    const clientDataJSON = Buffer.from(this.clientData('webauthn.get', o.challenge ?? options.challenge, o.origin));
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: o.userHandle ?? credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  private authDataHead(rpId: string, flags: number, counter: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }

  private clientData(type: string, challenge: string, origin?: string): string {
    return JSON.stringify({ type, challenge, origin: origin ?? this.opts.origin, crossOrigin: false });
  }
}
