import { Latencies, summarise, type RunResult } from './stats.js';

/**
 * Load loops. A flow is one logical unit (it may be several dependent requests); it resolves true when
 * done, false when there is nothing left to do (no operation or TOTP step left), and throws on an
 * unexpected answer. Only flows that finish inside the window count; a run stops by itself at the end
 * of its window, or earlier when its material runs out (reported).
 */
export type Flow = () => Promise<boolean>;

const MAX_ERRORS = 200;

/**
 * How many times per second `once` completes, `concurrency` at a time for `seconds`: what a limit is
 * measured with (no material to run out of, and any error stops the measurement).
 */
export async function completionsPerSecond(concurrency: number, seconds: number, once: (worker: number) => Promise<void>): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end) {
        await once(w);
        if (performance.now() <= end) done++;
      }
    }),
  );
  return done / seconds;
}

/** `concurrency` workers, each starting its next flow when the previous one is done. */
export async function closedLoop(concurrency: number, seconds: number, flowFor: (worker: number) => Flow): Promise<RunResult> {
  const lat = new Latencies();
  let errors = 0;
  let firstError: string | null = null;
  let exhausted = false;
  const start = performance.now();
  const end = start + seconds * 1000;
  let lastDone = start;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const flow = flowFor(w);
      while (performance.now() < end && errors < MAX_ERRORS) {
        const t = performance.now();
        try {
          if (!(await flow())) {
            exhausted = true;
            break;
          }
          const now = performance.now();
          if (now <= end) {
            lat.add(now - t);
            lastDone = Math.max(lastDone, now);
          }
        } catch (e) {
          errors++;
          firstError ??= (e as Error).message;
        }
      }
    }),
  );
  const elapsed = (Math.min(end, exhausted ? lastDone : end) - start) / 1000;
  const early =
    errors >= MAX_ERRORS
      ? `stopped after ${errors} errors`
      : exhausted && elapsed < seconds * 0.95
        ? `ran out of material after ${elapsed.toFixed(1)} s`
        : null;
  return summarise(lat, Math.max(elapsed, 0.001), errors, firstError, early);
}

/**
 * Open loop: flows start at a fixed rate whatever the answers, and each latency counts from the
 * flow's scheduled start (no coordinated omission: a slow server is not given a break).
 */
export async function openLoop(ratePerSecond: number, seconds: number, flow: Flow): Promise<RunResult & { offered: number }> {
  const lat = new Latencies();
  let errors = 0;
  let firstError: string | null = null;
  let exhausted = false;
  const interval = 1000 / ratePerSecond;
  const start = performance.now();
  const end = start + seconds * 1000;
  const inFlight = new Set<Promise<void>>();
  let issued = 0;
  while (!exhausted && errors < MAX_ERRORS) {
    const now = performance.now();
    if (now >= end) break;
    // Start every flow whose time has come (timers are coarse under load; latency counts from the schedule).
    while (start + issued * interval <= now && inFlight.size < 10_000) {
      const scheduled = start + issued * interval;
      issued++;
      const p: Promise<void> = flow().then(
        (ok) => {
          if (!ok) exhausted = true;
          else if (performance.now() <= end + 5000) lat.add(performance.now() - scheduled);
        },
        (e: unknown) => {
          errors++;
          firstError ??= (e as Error).message;
        },
      );
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    }
    const wait = start + issued * interval - performance.now();
    await new Promise<void>((r) => (wait > 1 ? setTimeout(r, Math.min(wait, 50)) : setImmediate(r)));
  }
  const stoppedAt = performance.now();
  await Promise.all(inFlight);
  const elapsed = (Math.min(stoppedAt, end) - start) / 1000;
  const early =
    errors >= MAX_ERRORS ? `stopped after ${errors} errors` : exhausted ? `ran out of material after ${elapsed.toFixed(1)} s` : null;
  return { ...summarise(lat, Math.max(elapsed, 0.001), errors, firstError, early), offered: ratePerSecond };
}
