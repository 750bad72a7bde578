import { Unprocessable } from '../core/errors.js';
import type { Services } from '../context.js';

/**
 * Device integrity (RTS art. 9): a platform attestation verdict at activation. Sésame does not embed
 * Google's or Apple's verifiers; a bank plugs its own (Play Integrity, App Attest) behind this interface.
 * The built-in `dev` verifier reads a verdict the test or demo app declares, so the policy paths can be
 * exercised; in production without a verifier every device is `unrecognised`.
 */
export interface AttestationEvidence {
  format: string;
  evidence: string;
}

export type AttestationVerdict = 'trusted' | 'unrecognised' | 'compromised';

export interface DeviceAttestationVerifier {
  readonly format: string;
  verify(evidence: string, platform: string): Promise<AttestationVerdict>;
}

export const devAttestationVerifier: DeviceAttestationVerifier = {
  format: 'dev',
  async verify(evidence) {
    return evidence === 'trusted' || evidence === 'compromised' ? evidence : 'unrecognised';
  },
};

const verifiers = new Map<string, DeviceAttestationVerifier>();

/** Plugs a platform verifier in (called at start by a bank's integration). */
export function registerAttestationVerifier(v: DeviceAttestationVerifier): void {
  verifiers.set(v.format, v);
}

export async function attestationVerdict(
  s: Services,
  a: AttestationEvidence | undefined,
  platform: string,
): Promise<{ verdict: AttestationVerdict }> {
  const verifier = a
    ? (verifiers.get(a.format) ?? (s.config.mode === 'development' && a.format === 'dev' ? devAttestationVerifier : null))
    : null;
  const verdict: AttestationVerdict = a && verifier ? await verifier.verify(a.evidence, platform) : 'unrecognised';
  if (verdict === 'compromised') {
    throw new Unprocessable(
      'ERR_DEVICE_INTEGRITY',
      'This device failed its integrity check (rooted, emulated or tampered): the app cannot be activated on it.',
    );
  }
  if (verdict !== 'trusted' && s.config.app.attestation === 'required') {
    throw new Unprocessable('ERR_DEVICE_INTEGRITY', 'This bank requires a verified device: the platform did not attest this installation.');
  }
  return { verdict };
}
