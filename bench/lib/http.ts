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
  /** The same connections as a `fetch`, for the device SDK (see {@link fetchOver}). */
  readonly fetch: typeof fetch;
  readonly #host: string;
  readonly #port: number;
  readonly #auth: string;

  constructor(baseUrl: string, apiKey: string, connections: number) {
    const u = new URL(baseUrl);
    this.#host = u.hostname;
    this.#port = Number(u.port);
    this.#auth = `Bearer ${apiKey}`;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections, scheduling: 'fifo' });
    this.fetch = fetchOver(this.agent);
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

/**
 * A `fetch` for the device SDK over keep-alive `node:http`, with just what the SDK reads of an answer
 * (`ok`, `status`, `headers.get`, `json`). Node's own fetch (undici) costs the load generator about
 * 0.8 ms of CPU more per request on this machine: in (g) that was a third of the machine's CPU, spent
 * on work a phone does, not the server.
 */
export function fetchOver(agent: http.Agent): typeof fetch {
  const send = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : null;
    if (init.body != null && !body) return Promise.reject(new TypeError('fetchOver sends string bodies only'));
    return new Promise<Response>((resolve, reject) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: init.method ?? 'GET',
          path: url.pathname + url.search,
          agent,
          headers: { ...(init.headers as Record<string, string> | undefined), ...(body ? { 'content-length': body.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            resolve({
              ok: status >= 200 && status < 300,
              status,
              headers: { get: (name: string) => [res.headers[name.toLowerCase()]].flat()[0] ?? null },
              json: async () => JSON.parse(text) as unknown,
              text: async () => text,
            } as unknown as Response);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`${init.method ?? 'GET'} ${url.pathname}: no answer after ${REQUEST_TIMEOUT_MS / 1000} s`)),
      );
      req.end(body ?? undefined);
    });
  };
  return send as typeof fetch;
}
