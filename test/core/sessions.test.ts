import { describe, expect, it } from 'vitest';
import { sessionExpiresAt, sessionVerdict, type SessionPolicy } from '../../src/core/sessions.js';

const T0 = new Date('2026-01-15T09:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const policy: SessionPolicy = { inactivitySeconds: 300, absoluteSeconds: 8 * 3600 };
const fresh = { createdAt: T0, lastSeenAt: T0, revokedAt: null };

describe('sessions: 5 minutes of inactivity end a session', () => {
  it('is alive 299 s after the last activity', () => {
    expect(sessionVerdict(fresh, at(299), policy)).toBe('active');
    expect(sessionVerdict(fresh, new Date(at(300).getTime() - 1), policy)).toBe('active');
  });

  it('is over at exactly 300 s of inactivity', () => {
    expect(sessionVerdict(fresh, at(300), policy)).toBe('idle-timeout');
    expect(sessionVerdict(fresh, at(3000), policy)).toBe('idle-timeout');
  });

  it('counts inactivity from the last activity, not from the login', () => {
    const used = { ...fresh, lastSeenAt: at(299) };
    expect(sessionVerdict(used, at(598), policy)).toBe('active');
    expect(sessionVerdict(used, at(599), policy)).toBe('idle-timeout');
  });

  it('says when the session will end: idle expiry first', () => {
    expect(sessionExpiresAt({ ...fresh, lastSeenAt: at(100) }, policy)).toEqual(at(400));
  });
});

describe('sessions: an absolute lifetime, whatever the activity', () => {
  it('ends a constantly used session at its absolute lifetime', () => {
    const busy = { ...fresh, lastSeenAt: at(8 * 3600 - 1) };
    expect(sessionVerdict(busy, at(8 * 3600 - 1), policy)).toBe('active');
    expect(sessionVerdict(busy, at(8 * 3600), policy)).toBe('expired');
  });

  it('says when the session will end: absolute expiry when it comes first', () => {
    expect(sessionExpiresAt({ ...fresh, lastSeenAt: at(8 * 3600 - 10) }, policy)).toEqual(at(8 * 3600));
  });
});

describe('sessions: ended on purpose', () => {
  it('is over once revoked, even a second later', () => {
    expect(sessionVerdict({ ...fresh, revokedAt: at(1) }, at(2), policy)).toBe('revoked');
  });
});
