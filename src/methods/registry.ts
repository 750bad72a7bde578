import { appMethod, appOfflineMethod } from './app/index.js';
import { hotpMethod } from './hotp/index.js';
import { ocraMethod } from './ocra/index.js';
import { passwordMethod } from './password/index.js';
import { recoveryMethod } from './recovery/index.js';
import { totpMethod } from './totp/index.js';
import { smsMethod, voiceMethod } from './phone/index.js';
import { webauthnMethod } from './webauthn/index.js';
import type { ElementCategory } from '../core/elements.js';
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
  appMethod,
  appOfflineMethod,
  webauthnMethod,
];

const byKind = new Map(METHODS.map((m) => [m.kind, m]));

export function methodFor(kind: string): AuthMethod<any> | undefined {
  return byKind.get(kind);
}

/** The categories an active authenticator of this kind can prove (none for a kind this server does not know). */
export function enrolledCategories(kind: string): readonly ElementCategory[] {
  const m = byKind.get(kind);
  return m ? (m.enrolledCategories ?? [m.category]) : [];
}
