import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installProblemHandlers } from '../../src/http/problem.js';

/** Errors that are nobody's input: what the client is told, and that it is never a bare 500 when a retry is the answer. */
describe('problem+json for errors from below the domain', () => {
  async function answerTo(error: Error) {
    const app = Fastify({ logger: false });
    installProblemHandlers(app);
    app.get('/boom', async () => {
      throw error;
    });
    const res = await app.inject({ method: 'GET', url: '/boom' });
    await app.close();
    return res;
  }

  it('a transaction the database rolled back to resolve a deadlock or a serialisation conflict is a 409 to retry', async () => {
    for (const code of ['40P01', '40001']) {
      const res = await answerTo(Object.assign(new Error('deadlock detected: Process 12 waits for ShareLock on transaction 34'), { code }));
      expect(res.statusCode).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ code: 'ERR_CONCURRENT_CHANGE', status: 409 });
      // The database's own words (processes, transactions) stay in the server.
      expect(res.body).not.toContain('Process 12');
    }
  });

  it('anything else unexpected is a 500 that says nothing of its cause', async () => {
    const res = await answerTo(Object.assign(new Error('relation "secrets" does not exist'), { code: '42P01' }));
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'ERR_INTERNAL' });
    expect(res.body).not.toContain('secrets');
  });
});
