#!/usr/bin/env node
// The `sesame` command: runs the TypeScript CLI through tsx's loader.
'use strict';

// libuv's threadpool runs the argon2id password checks, one per thread. Its default of four threads
// whatever the machine oversubscribes two cores (memory-bound runs evict each other from the cache: a
// fifth of the throughput lost) and leaves a larger machine's other cores idle: one thread per core,
// unless the operator sets it. libuv reads it when work is first queued, which an ES module entry
// point already does to load itself: hence CommonJS, and this line first.
process.env.UV_THREADPOOL_SIZE ??= String(require('node:os').availableParallelism());

import('tsx/esm/api')
  .then(({ register }) => {
    register();
    return import('../src/cli/sesame.ts');
  })
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
