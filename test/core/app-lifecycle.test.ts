import { describe, expect, it } from 'vitest';
import {
  activationExpiry,
  defaultAppPolicy,
  eligibilityGaps,
  numberMatch,
  recordUse,
  type CustomerFacts,
} from '../../src/core/app-lifecycle.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const hours = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
const facts = (f: Partial<CustomerFacts> = {}): CustomerFacts => ({
  remoteBanking: true,
  securePhone: '+33612345678',
  hasActiveCard: true,
  email: null,
  emailSince: null,
  delayLiftedAt: null,
  securePhoneCoolingOff: false,
  ...f,
});

describe('app authenticator lifecycle rules (seed 003)', () => {
  it('self-service needs remote banking, a secure mobile, and a card or an email older than 72 h', () => {
    expect(eligibilityGaps(facts(), NOW, 'self', defaultAppPolicy)).toEqual([]);
    expect(eligibilityGaps(facts({ remoteBanking: false, securePhone: null }), NOW, 'self', defaultAppPolicy)).toEqual([
      'remote_banking',
      'secure_phone',
    ]);
    const emailOnly = (since: Date) => facts({ hasActiveCard: false, email: 'e@example.org', emailSince: since });
    expect(eligibilityGaps(emailOnly(hours(72)), NOW, 'self', defaultAppPolicy)).toEqual(['card_or_email_72h']);
    expect(eligibilityGaps(emailOnly(hours(72.01)), NOW, 'self', defaultAppPolicy)).toEqual([]);
    expect(eligibilityGaps(facts({ hasActiveCard: false }), NOW, 'self', defaultAppPolicy)).toEqual(['card_or_email_72h']);
    // An advisor's lifting of the delay, after a reinforced identity check, stands for it.
    expect(eligibilityGaps(facts({ hasActiveCard: false, delayLiftedAt: hours(1) }), NOW, 'self', defaultAppPolicy)).toEqual([]);
  });

  it('self-service waits for a newly changed secure number’s cooling-off; in the branch, face to face, it does not', () => {
    expect(eligibilityGaps(facts({ securePhoneCoolingOff: true }), NOW, 'self', defaultAppPolicy)).toEqual(['secure_phone_cooling_off']);
    expect(eligibilityGaps(facts({ securePhoneCoolingOff: true }), NOW, 'branch', defaultAppPolicy)).toEqual([]);
  });

  it('a branch activation, face to face, needs neither the card nor the email', () => {
    expect(eligibilityGaps(facts({ hasActiveCard: false }), NOW, 'branch', defaultAppPolicy)).toEqual([]);
    expect(eligibilityGaps(facts({ hasActiveCard: false, securePhone: null }), NOW, 'branch', defaultAppPolicy)).toEqual(['secure_phone']);
  });

  it('a branch initiation lasts 24 h, a self-service code 15 minutes', () => {
    expect(activationExpiry('branch', NOW, defaultAppPolicy).getTime() - NOW.getTime()).toBe(24 * 3_600_000);
    expect(activationExpiry('self', NOW, defaultAppPolicy).getTime() - NOW.getTime()).toBe(15 * 60_000);
  });

  it('a phone used on 5 distinct days within 30 becomes a trusted device; older days fall out', () => {
    let days: string[] = [];
    for (let d = 0; d < 4; d++) days = recordUse(days, new Date(NOW.getTime() + d * 86_400_000), defaultAppPolicy).days;
    // Twice the same day counts once.
    expect(recordUse(days, new Date(NOW.getTime() + 3 * 86_400_000), defaultAppPolicy).trusted).toBe(false);
    expect(recordUse(days, new Date(NOW.getTime() + 4 * 86_400_000), defaultAppPolicy).trusted).toBe(true);
    // 40 days later the first four are out of the window.
    expect(recordUse(days, new Date(NOW.getTime() + 40 * 86_400_000), defaultAppPolicy)).toMatchObject({
      trusted: false,
      days: [expect.any(String)],
    });
  });

  it('number matching offers three distinct two-digit numbers, one of which is shown', () => {
    let seed = 0;
    const sequence = [5, 5, 5, 17, 42, 1];
    const random = (max: number) => sequence[seed++ % sequence.length]! % max;
    const m = numberMatch(random);
    expect(new Set(m.options).size).toBe(3);
    expect(m.options.every((n) => n >= 10 && n <= 99)).toBe(true);
    expect(m.options).toContain(m.number);
  });
});
