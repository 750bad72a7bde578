/**
 * Sessions opened by a login SCA (RTS art. 4(3)(d)): an inactivity timeout of at most 5 minutes and an
 * absolute lifetime. Pure rules; the store keeps only a hash of the token.
 */
export interface SessionPolicy {
  inactivitySeconds: number;
  absoluteSeconds: number;
}

export interface SessionTimes {
  createdAt: Date;
  lastSeenAt: Date;
  revokedAt: Date | null;
}

export type SessionVerdict = 'active' | 'idle-timeout' | 'expired' | 'revoked';

export function sessionVerdict(s: SessionTimes, now: Date, policy: SessionPolicy): SessionVerdict {
  if (s.revokedAt) return 'revoked';
  if (now.getTime() - s.createdAt.getTime() >= policy.absoluteSeconds * 1000) return 'expired';
  if (now.getTime() - s.lastSeenAt.getTime() >= policy.inactivitySeconds * 1000) return 'idle-timeout';
  return 'active';
}

/** When the session ends if nothing else happens: the earlier of idle and absolute expiry. */
export function sessionExpiresAt(s: SessionTimes, policy: SessionPolicy): Date {
  return new Date(
    Math.min(s.lastSeenAt.getTime() + policy.inactivitySeconds * 1000, s.createdAt.getTime() + policy.absoluteSeconds * 1000),
  );
}
