import type { FastifyInstance } from 'fastify';

/**
 * The methods each registered path answers, so that a request with another method gets 405 and an
 * `Allow` header (RFC 9110 §15.5.6) instead of a 404 that says the resource does not exist.
 */
export interface AllowedMethods {
  /** The methods a path answers, in a stable order; empty when no route has that path. */
  of(path: string): string[];
}

/** Must be called before any route is registered: it learns them as they are. */
export function trackAllowedMethods(app: FastifyInstance): AllowedMethods {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().map(String);
    if (methods.includes('GET')) methods.push('HEAD');
    routes.push({ pattern: patternOf(route.url ?? route.path), methods });
  });
  return {
    of(path) {
      const allowed = new Set<string>();
      for (const { pattern, methods } of routes) if (pattern.test(path)) for (const m of methods) allowed.add(m);
      return [...allowed].sort();
    },
  };
}

/** A route's URL (`/v1/customers/:id`, `/docs/*`) as the paths it matches. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
