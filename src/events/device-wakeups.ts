import { EventEmitter } from 'node:events';

/**
 * Wakes the app installations long-polling this process when an approval is created for them. Another
 * process's approval is found by the poll's periodic re-check, so several processes stay correct.
 */
export class DeviceWakeups {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  wake(authenticatorId: string): void {
    this.emitter.emit(authenticatorId);
  }

  /** Resolves on a wake-up for this installation, or after `ms`, whichever comes first. */
  wait(authenticatorId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(authenticatorId, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.once(authenticatorId, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
