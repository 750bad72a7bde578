// The embedded database's own thread (see pglite-thread.ts). Plain JavaScript: a worker thread is loaded
// by Node itself, whatever TypeScript loader the main thread runs under (tsx, vitest).
//
// Messages in: { id, bytes } — frontend protocol messages, answered with the backend's raw bytes;
// { id, close: true } — close the database. Messages out: { ready, arrayTypes } | { failed } once, then
// { id, bytes } | { id, error } per request, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const { dataDir } = workerData;

/** One request at a time, in arrival order: the database is one connection. */
let queue = Promise.resolve();

async function open() {
  const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), relaxedDurability: true });
  // The array types PGlite itself reads at start, so the main thread can (de)serialise arrays likewise.
  const arrayTypes = (
    await db.query(`SELECT b.oid, b.typarray FROM pg_catalog.pg_type a LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem
                     WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray ORDER BY b.oid`)
  ).rows;
  return { db, arrayTypes };
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

open().then(
  ({ db, arrayTypes }) => {
    parentPort.postMessage({ ready: true, arrayTypes });
    parentPort.on('message', (m) => {
      queue = queue.then(async () => {
        try {
          if (m.close) {
            await db.close();
            parentPort.postMessage({ id: m.id, bytes: new Uint8Array(0) });
            return;
          }
          // The raw answer only: the main thread parses it (PGlite's own raw path would also parse it here,
          // and keep every message it parsed).
          const chunks = [];
          await db.execProtocolRawStream(m.bytes, { syncToFs: true, onRawData: (chunk) => void chunks.push(chunk.slice()) });
          const bytes = chunks.length === 1 ? chunks[0] : concat(chunks);
          parentPort.postMessage({ id: m.id, bytes }, [bytes.buffer]);
        } catch (e) {
          parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
        }
      });
    });
  },
  (e) => parentPort.postMessage({ failed: e instanceof Error ? e.message : String(e) }),
);
