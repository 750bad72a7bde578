import { Worker } from 'node:worker_threads';
import { types } from '@electric-sql/pglite';

type Reply = { id: number; bytes: Uint8Array } | { id: number; error: string };
type Hello = { ready: true; arrayTypes: { oid: number; typarray: number }[] } | { failed: string };

/**
 * The embedded PGlite database, running on a worker thread of its own. PostgreSQL compiled to
 * WebAssembly is synchronous CPU work: in the server's thread it took close to half of every request's
 * time, and stopped every other request meanwhile. Here the HTTP work and the database's work run on
 * two cores, and the event loop stays free while a query runs.
 *
 * The thread speaks the PostgreSQL wire protocol: requests are frontend messages, answers the backend's
 * raw bytes, parsed here with PGlite's own parser and type handlers, so results are those of PGlite.
 */
export class PGliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  #next = 0;
  #broken: Error | null = null;
  /** PGlite's type handlers, with the array types of this database, and int8 as numbers. */
  readonly parsers: typeof types.parsers;
  readonly serializers: typeof types.serializers;

  private constructor(worker: Worker, arrayTypes: { oid: number; typarray: number }[]) {
    this.#worker = worker;
    const parsers: typeof types.parsers = { ...types.parsers, 20: (v: string) => Number(v) };
    const serializers: typeof types.serializers = { ...types.serializers };
    for (const { oid, typarray } of arrayTypes) {
      serializers[typarray] = (v) => types.arraySerializer(v, serializers[oid], typarray);
      parsers[typarray] = (v) => types.arrayParser(v, parsers[oid]!, typarray);
    }
    this.parsers = parsers;
    this.serializers = serializers;
    worker.on('message', (m: Reply) => {
      const waiting = this.#pending.get(m.id);
      if (!waiting) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) worker.unref();
      if ('error' in m) waiting.reject(new Error(`The embedded database failed: ${m.error}`));
      else waiting.resolve(m.bytes);
    });
    // A crash of the database thread fails what waits and everything after: nothing is silently lost.
    const fail = (e: Error) => {
      this.#broken ??= e;
      for (const w of this.#pending.values()) w.reject(e);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The embedded database thread stopped (exit code ${code}).`)));
  }

  /** Starts the thread and opens the database in `dataDir` (in memory when absent). */
  static async open(dataDir: string | undefined): Promise<PGliteThread> {
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dataDir } });
    // Listeners removed one by one: removeAllListeners() would also drop the worker's own hooks that keep
    // its message port referenced, and no answer would ever arrive.
    let listeners: { message: (h: Hello) => void; error: (e: Error) => void; exit: (code: number) => void } | null = null;
    const hello = await new Promise<Hello>((resolve, reject) => {
      listeners = {
        message: resolve,
        error: reject,
        exit: (code) => reject(new Error(`The embedded database thread stopped while opening (exit code ${code}).`)),
      };
      worker.on('message', listeners.message).on('error', listeners.error).on('exit', listeners.exit);
    })
      .catch(async (e: unknown) => {
        await worker.terminate();
        throw e;
      })
      .finally(() => {
        worker.off('message', listeners!.message).off('error', listeners!.error).off('exit', listeners!.exit);
      });
    if ('failed' in hello) {
      await worker.terminate();
      throw new Error(`The embedded database could not be opened: ${hello.failed}`);
    }
    // Like a database in this thread, an idle one does not keep the process alive (see exchange()).
    worker.unref();
    return new PGliteThread(worker, hello.arrayTypes);
  }

  /**
   * Sends frontend messages; the backend's answer, in the order requests were sent. The thread keeps the
   * process alive only while an answer is awaited.
   */
  exchange(bytes: Uint8Array): Promise<Uint8Array> {
    return this.#request({ bytes });
  }

  /** Closes the database (its files are consistent afterwards) and stops the thread. */
  async close(): Promise<void> {
    if (!this.#broken) await this.#request({ close: true });
    this.#broken ??= new Error('The embedded database is closed.');
    await this.#worker.terminate();
  }

  #request(message: { bytes: Uint8Array } | { close: true }): Promise<Uint8Array> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, ...message });
    });
  }
}
