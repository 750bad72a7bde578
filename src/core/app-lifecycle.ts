/**
 * The app authenticator's lifecycle rules (seed 003), pure: who may activate it, how long an activation
 * waits, when a phone becomes a trusted device. Times come from the caller's clock.
 */

export interface AppPolicy {
  /** A personal email counts for eligibility once registered this long (72 h). */
  emailDelayHours: number;
  /** A branch initiation the customer must finish on the phone within (24 h). */
  branchWindowHours: number;
  /** A self-service activation code lives this long. */
  selfServiceMinutes: number;
  /**
   * Self-service activations started per customer in 24 h: each sends an SMS code with 5 tries, so
   * starting again and again would turn 5 guesses into any number, and the SMS into harassment.
   */
  activationsPerDay: number;
  /** An approval request waits this long for the customer. */
  approvalSeconds: number;
  /** Against push bombing: approval requests per customer per window. */
  approvalRequestsPerWindow: number;
  approvalWindowMinutes: number;
  /** A phone used on this many distinct days (within `trustWindowDays`) becomes a trusted device. */
  trustAfterDays: number;
  trustWindowDays: number;
}

export const defaultAppPolicy: AppPolicy = {
  emailDelayHours: 72,
  branchWindowHours: 24,
  selfServiceMinutes: 15,
  activationsPerDay: 10,
  approvalSeconds: 300,
  approvalRequestsPerWindow: 5,
  approvalWindowMinutes: 10,
  trustAfterDays: 5,
  trustWindowDays: 30,
};

export type EligibilityGap = 'remote_banking' | 'secure_phone' | 'card_or_email_72h' | 'secure_phone_cooling_off';

export interface CustomerFacts {
  remoteBanking: boolean;
  securePhone: string | null;
  hasActiveCard: boolean;
  email: string | null;
  emailSince: Date | null;
  delayLiftedAt: Date | null;
  /** The secure number changed within the cooling-off: an SMS to it proves too little to bind an app. */
  securePhoneCoolingOff: boolean;
}

/**
 * Self-service eligibility: a remote-banking subscription, a secure mobile number, and an active card or a
 * personal email registered for more than 72 h (unless an advisor lifted the delay after a reinforced
 * identity check). The smartphone is the device that completes the activation.
 * A branch activation, in person, needs neither the card nor the email (seed 003).
 */
export function eligibilityGaps(c: CustomerFacts, now: Date, channel: 'self' | 'branch', policy: AppPolicy): EligibilityGap[] {
  const gaps: EligibilityGap[] = [];
  if (!c.remoteBanking) gaps.push('remote_banking');
  if (!c.securePhone) gaps.push('secure_phone');
  if (channel === 'self') {
    const emailOldEnough =
      c.email !== null && c.emailSince !== null && now.getTime() - c.emailSince.getTime() > policy.emailDelayHours * 3_600_000;
    if (!c.hasActiveCard && !emailOldEnough && !c.delayLiftedAt) gaps.push('card_or_email_72h');
    // Self-service is confirmed by an SMS to that number: a number changed just now (perhaps by someone
    // who talked an advisor into it) must not bind the strongest authenticator. In the branch, face to face, it may.
    if (c.securePhone && c.securePhoneCoolingOff) gaps.push('secure_phone_cooling_off');
  }
  return gaps;
}

/** When an activation started now stops being usable. */
export function activationExpiry(channel: 'self' | 'branch', now: Date, policy: AppPolicy): Date {
  const ms = channel === 'branch' ? policy.branchWindowHours * 3_600_000 : policy.selfServiceMinutes * 60_000;
  return new Date(now.getTime() + ms);
}

/**
 * The days (YYYY-MM-DD, UTC) a device was used, kept within the trust window, with today's added; and
 * whether that makes it a trusted device ("a regularly used phone").
 */
export function recordUse(days: readonly string[], now: Date, policy: AppPolicy): { days: string[]; trusted: boolean } {
  const today = now.toISOString().slice(0, 10);
  const since = new Date(now.getTime() - policy.trustWindowDays * 86_400_000).toISOString().slice(0, 10);
  const kept = [...new Set([...days, today])].filter((d) => d >= since).sort();
  return { days: kept, trusted: kept.length >= policy.trustAfterDays };
}

/** Number matching: the number the page shows and the three the app offers (distinct, 10–99). */
export function numberMatch(random: (maxExclusive: number) => number): { number: number; options: number[] } {
  const options = new Set<number>();
  while (options.size < 3) options.add(10 + random(90));
  const list = [...options];
  return { number: list[random(3)]!, options: list.sort((a, b) => a - b) };
}
