/** Latencies in milliseconds, kept whole (a 20 s run is at most a few hundred thousand numbers). */
export class Latencies {
  #values = new Float64Array(1 << 16);
  #n = 0;

  add(ms: number): void {
    if (this.#n === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#n++] = ms;
  }

  get count(): number {
    return this.#n;
  }

  /** Nearest-rank percentile (p in 0…100); NaN when empty. */
  percentiles(...ps: number[]): number[] {
    if (this.#n === 0) return ps.map(() => Number.NaN);
    const sorted = this.#values.slice(0, this.#n).sort();
    return ps.map((p) => sorted[Math.min(this.#n - 1, Math.max(0, Math.ceil((p / 100) * this.#n) - 1))]!);
  }
}

export interface RunResult {
  /** Flows completed inside the measured window. */
  flows: number;
  /** Length of the measured window, seconds. */
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  firstError: string | null;
  /** Why the run ended before its time, if it did (e.g. no TOTP step left). */
  endedEarly: string | null;
}

export function summarise(
  lat: Latencies,
  seconds: number,
  errors: number,
  firstError: string | null,
  endedEarly: string | null,
): RunResult {
  const [p50, p99] = lat.percentiles(50, 99);
  return { flows: lat.count, seconds, perSecond: lat.count / seconds, p50: p50!, p99: p99!, errors, firstError, endedEarly };
}
