/**
 * Time source for every rule that depends on time (lockout ladder, session timeouts, 72 h / 24 h windows,
 * yearly re-verification). Injected everywhere so tests move time instead of sleeping.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests can move forward. */
export class ManualClock implements Clock {
  #ms: number;
  constructor(start: Date | string = '2026-01-15T09:00:00Z') {
    this.#ms = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#ms);
  }
  advance(ms: number): void {
    this.#ms += ms;
  }
  advanceSeconds(s: number): void {
    this.advance(s * 1000);
  }
  set(at: Date | string): void {
    this.#ms = new Date(at).getTime();
  }
}
