import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';

/**
 * The API as its own OpenAPI document describes it, for tests that must cover every route without a
 * hand-kept list: a route added tomorrow is covered tomorrow.
 */
export interface RouteInfo {
  method: string;
  /** OpenAPI form: `/v1/customers/{id}`. */
  path: string;
  /** Which credential it takes: the relying party's API key, an advisor token, an app installation's signature, or none. */
  auth: 'apiKey' | 'advisorToken' | 'deviceSignature' | null;
  pathParams: string[];
  queryParams: string[];
  /** The JSON schema of the request body, when the route declares one. */
  body: JsonSchema | null;
  /** Every property name that appears anywhere in the body schema (nested objects, arrays, unions). */
  fieldNames: string[];
  /** Every `const` / `enum` string or number of the body schema: values that get past the first checks. */
  constants: (string | number)[];
}

export type JsonSchema = Record<string, any>;

export const routeKey = (r: Pick<RouteInfo, 'method' | 'path'>) => `${r.method} ${r.path}`;

export async function openApiRoutes(app: FastifyInstance): Promise<RouteInfo[]> {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  const doc = res.json() as { paths: Record<string, Record<string, any>> };
  const routes: RouteInfo[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []) as { in: string; name: string }[];
      const body = (op.requestBody?.content?.['application/json']?.schema ?? null) as JsonSchema | null;
      const security = (op.security ?? []) as Record<string, unknown>[];
      const names = new Set<string>();
      const constants = new Set<string | number>();
      if (body) walkSchema(body, names, constants);
      routes.push({
        method: method.toUpperCase(),
        path,
        auth: security.some((s) => 'advisorToken' in s)
          ? 'advisorToken'
          : security.some((s) => 'apiKey' in s)
            ? 'apiKey'
            : security.some((s) => 'deviceSignature' in s)
              ? 'deviceSignature'
              : null,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        body,
        fieldNames: [...names].sort(),
        constants: [...constants],
      });
    }
  }
  return routes;
}

function walkSchema(schema: unknown, names: Set<string>, constants: Set<string | number>): void {
  if (!schema || typeof schema !== 'object') return;
  const s = schema as JsonSchema;
  if (s.properties && typeof s.properties === 'object') {
    for (const [name, sub] of Object.entries(s.properties)) {
      names.add(name);
      walkSchema(sub, names, constants);
    }
  }
  if (typeof s.const === 'string' || typeof s.const === 'number') constants.add(s.const);
  if (Array.isArray(s.enum)) for (const v of s.enum) if (typeof v === 'string' || typeof v === 'number') constants.add(v);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
    if (Array.isArray(s[key])) for (const sub of s[key]) walkSchema(sub, names, constants);
  if (s.items) walkSchema(s.items, names, constants);
}

/** `/v1/customers/{id}` with `{ id: 'x y' }` → `/v1/customers/x%20y`. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(v);
  });
}

export interface ProblemCheck {
  ok: boolean;
  why: string;
}

/**
 * Whether a response is an RFC 9457 problem the way the API promises: a 4xx (never a 5xx for anything
 * a client sends), `application/problem+json`, and `type, title, status, detail, code`.
 */
export function checkProblem(res: LightMyRequestResponse, expectedStatus?: number): ProblemCheck {
  const status = res.statusCode;
  const summary = `${status} ${String(res.headers['content-type'] ?? '')} ${res.body.slice(0, 160)}`;
  if (expectedStatus !== undefined && status !== expectedStatus) return { ok: false, why: `expected ${expectedStatus}, got ${summary}` };
  if (status < 400 || status >= 500) return { ok: false, why: `expected a 4xx, got ${summary}` };
  if (!/^application\/problem\+json\b/.test(String(res.headers['content-type'] ?? ''))) {
    return { ok: false, why: `not application/problem+json: ${summary}` };
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body);
  } catch {
    return { ok: false, why: `body is not JSON: ${summary}` };
  }
  for (const k of ['type', 'title', 'detail', 'code'] as const) {
    if (typeof body[k] !== 'string' || !(body[k] as string)) return { ok: false, why: `problem without ${k}: ${summary}` };
  }
  if (body.status !== status) return { ok: false, why: `problem.status ${String(body.status)} ≠ HTTP ${status}` };
  if (!/^ERR_[A-Z0-9_]+$/.test(body.code as string)) return { ok: false, why: `code is not an ERR_ constant: ${summary}` };
  return { ok: true, why: '' };
}

/** A response is acceptable to a fuzzer when it is a success or a well-formed problem; never a 5xx. */
export function checkNoServerError(res: LightMyRequestResponse): ProblemCheck {
  if (res.statusCode < 400) return { ok: true, why: '' };
  return checkProblem(res);
}
