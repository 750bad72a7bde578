import http from 'node:http';

/**
 * A small JSON client over keep-alive HTTP/1.1 connections to 127.0.0.1: at most `connections`
 * sockets, requests beyond that wait in the agent's queue (which open-loop latency then includes).
 */
const REQUEST_TIMEOUT_MS = 30_000;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 300)}`);
  }
}

export class Client {
  readonly agent: http.Agent;
  readonly #host: string;
  readonly #port: number;
  readonly #auth: string;

  constructor(baseUrl: string, apiKey: string, connections: number) {
    const u = new URL(baseUrl);
    this.#host = u.hostname;
    this.#port = Number(u.port);
    this.#auth = `Bearer ${apiKey}`;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'fifo' });
  }

  /** Sends `body` as JSON; resolves the parsed answer when the status is `expected`, else rejects with HttpError. */
  request<T = any>(method: string, path: string, body: unknown, expected: number): Promise<T> {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        {
          host: this.#host,
          port: this.#port,
          method,
          path,
          agent: this.agent,
          headers: {
            authorization: this.#auth,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== expected) return reject(new HttpError(res.statusCode ?? 0, text, `${method} ${path}`));
            try {
              resolve(text ? (JSON.parse(text) as T) : (undefined as T));
            } catch (e) {
              reject(e as Error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      // Nothing waits forever: a stuck server fails the flow.
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no answer after ${REQUEST_TIMEOUT_MS / 1000} s`)));
      if (payload) req.end(payload);
      else req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
