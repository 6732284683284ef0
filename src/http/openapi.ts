/** The admin API's OpenAPI document, built from the registered routes' schemas and roles. */
import type { RouteOptions } from 'fastify';
import { type Access, errorSchema } from './routes.js';
import { sessionCookie } from './sessions.js';

/** OpenAPI 3 from the registered routes' schemas. */
export function openApiDocument(routes: RouteOptions[]): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const url = route.url;
    if (!url.startsWith('/api/') && !['/metrics', '/healthz', '/readyz'].includes(url)) continue;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const schema = (route.schema ?? {}) as {
      summary?: string;
      params?: { properties?: Record<string, object>; required?: string[] };
      querystring?: { properties?: Record<string, object>; required?: string[] };
      body?: object;
      response?: Record<string, object>;
    };
    const path = url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters = [
      ...Object.entries(schema.params?.properties ?? {}).map(([name, s]) => ({
        name,
        in: 'path',
        required: true,
        schema: s,
      })),
      ...Object.entries(schema.querystring?.properties ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: schema.querystring?.required?.includes(name) ?? false,
        schema: s,
      })),
    ];
    const responses: Record<string, object> = {};
    for (const [code, s] of Object.entries(schema.response ?? {}))
      responses[code] = { description: code, content: { 'application/json': { schema: s } } };
    responses['400'] = { description: 'bad input', content: { 'application/json': { schema: errorSchema } } };
    const access = (route.config as { access?: Access } | undefined)?.access ?? 'admin';
    if (access !== 'anonymous') {
      responses['401'] = { description: 'not logged in' };
      responses['403'] = { description: 'role not allowed' };
    }
    for (const method of methods) {
      const entry: Record<string, unknown> = {
        summary: schema.summary ?? '',
        'x-sluice-role': access,
        parameters,
        responses,
        ...(access === 'anonymous' ? { security: [] } : {}),
      };
      if (schema.body) entry.requestBody = { required: true, content: { 'application/json': { schema: schema.body } } };
      paths[path] = { ...(paths[path] ?? {}), [method.toLowerCase()]: entry };
    }
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Sluice admin API', version: '1' },
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        session: { type: 'apiKey', in: 'cookie', name: sessionCookie },
      },
    },
    security: [{ basic: [] }, { session: [] }],
    paths,
  };
}
