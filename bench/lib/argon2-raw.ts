/**
 * Raw argon2id verifications/s, run as its own process by `argon2Limit` (bench/lib/limits.ts) so that its
 * libuv threadpool has one thread per core: argon2id is memory-bound (19 MiB a run at the server's
 * parameters), and more runs at once than cores evict each other from the cache, which on this machine
 * cost a fifth of the rate. Twice as many runs are kept in flight as there are threads, so that no core
 * waits for the event loop to hand it the next one.
 *
 *   UV_THREADPOOL_SIZE=<cores> node --import tsx bench/lib/argon2-raw.ts '{"memoryCost":19456,"timeCost":2,"parallelism":1}' <seconds>
 *
 * Prints `{"perSecond": …, "inFlight": …}` on stdout.
 */
import { hash, verify } from '@node-rs/argon2';
import { completionsPerSecond } from './load.js';

const params = JSON.parse(process.argv[2] ?? '{}') as { memoryCost: number; timeCost: number; parallelism: number };
const seconds = Number(process.argv[3]);
const inFlight = 2 * Number(process.env.UV_THREADPOOL_SIZE);
if (!(seconds > 0) || !(inFlight > 0)) throw new Error('usage: UV_THREADPOOL_SIZE=n argon2-raw.ts <params json> <seconds>');

const password = 'bench horse battery staple';
const digest = await hash(password, params);
const once = async () => {
  if (!(await verify(digest, password))) throw new Error('argon2 verify failed');
};
// Warm-up: every thread allocates its memory once.
await Promise.all(Array.from({ length: inFlight }, once));
const perSecond = await completionsPerSecond(inFlight, seconds, once);
process.stdout.write(`${JSON.stringify({ perSecond, inFlight })}\n`);
