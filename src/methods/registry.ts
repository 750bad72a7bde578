import { hotpMethod } from './hotp/index.js';
import { ocraMethod } from './ocra/index.js';
import { passwordMethod } from './password/index.js';
import { recoveryMethod } from './recovery/index.js';
import { totpMethod } from './totp/index.js';
import { smsMethod, voiceMethod } from './phone/index.js';
import type { AuthMethod } from './types.js';

/** Every authenticator kind the server knows. Adding a kind = a folder + one line here. */
export const METHODS: readonly AuthMethod<any>[] = [
  passwordMethod,
  totpMethod,
  recoveryMethod,
  smsMethod,
  voiceMethod,
  hotpMethod,
  ocraMethod,
];

const byKind = new Map(METHODS.map((m) => [m.kind, m]));

export function methodFor(kind: string): AuthMethod<any> | undefined {
  return byKind.get(kind);
}
