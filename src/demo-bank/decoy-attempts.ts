import { BankError } from './errors.js';

/**
 * Answers for identifiers that match no customer. Telling "unknown identifier" apart from "wrong
 * password or code" would let anyone test which identifiers exist, so the bank plays the same game as
 * Sésame's lockout for them: the same generic failure with a decreasing count of remaining attempts,
 * then a temporary block.
 */
export class DecoyAttempts {
  readonly #byRef = new Map<string, { failures: number; blockedUntilMs: number | null }>();
  readonly #now: () => Date;
  readonly #maxAttempts: number;
  readonly #blockMs: number;

  constructor(now: () => Date, opts: { maxAttempts?: number; blockSeconds?: number } = {}) {
    this.#now = now;
    this.#maxAttempts = opts.maxAttempts ?? 5;
    this.#blockMs = (opts.blockSeconds ?? 15 * 60) * 1000;
  }

  /** Always throws: the generic authentication failure, or a block once the attempts are spent. */
  fail(ref: string): never {
    const nowMs = this.#now().getTime();
    const key = ref.toLowerCase();
    let entry = this.#byRef.get(key);
    if (entry?.blockedUntilMs != null && entry.blockedUntilMs > nowMs) throw this.#blocked(entry.blockedUntilMs);
    if (!entry || entry.blockedUntilMs != null) entry = { failures: 0, blockedUntilMs: null };
    this.#remember(key, entry);
    entry.failures += 1;
    if (entry.failures >= this.#maxAttempts) {
      entry.blockedUntilMs = nowMs + this.#blockMs;
      throw this.#blocked(entry.blockedUntilMs);
    }
    throw new BankError(401, 'ERR_AUTHENTICATION_FAILED', 'Authentication failed.', {
      remainingAttempts: this.#maxAttempts - entry.failures,
      nextBlockPermanent: false,
    });
  }

  #blocked(untilMs: number): BankError {
    return new BankError(423, 'ERR_CUSTOMER_BLOCKED', 'Too many failed attempts. Access is temporarily blocked.', {
      blockedUntil: new Date(untilMs).toISOString(),
      permanent: false,
      nextBlockPermanent: false,
    });
  }

  /** Bounded memory: the oldest entries go first. */
  #remember(key: string, entry: { failures: number; blockedUntilMs: number | null }): void {
    this.#byRef.delete(key);
    this.#byRef.set(key, entry);
    if (this.#byRef.size > 10_000) this.#byRef.delete(this.#byRef.keys().next().value!);
  }
}
