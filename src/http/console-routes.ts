/**
 * The web console's static files (src/http/console/), served without
 * authentication: the page is public, its data calls (/api/...) need a login.
 * A fixed allow-list of files, read once; nothing else under the folder is
 * reachable, so no path from the URL ever touches the file system.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The console/ folder beside this file: src/http/console/ under tsx and vitest,
 * dist/http/console/ when compiled (scripts/finish-build.mjs copies it there, so
 * an installed package, which ships dist but not src, serves the console too).
 */
export const consoleDir = fileURLToPath(new URL('./console/', import.meta.url));

const files: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

export function registerConsole(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  const load = (name: string): Buffer => {
    let body = cache.get(name);
    if (!body) {
      body = readFileSync(`${consoleDir}${name}`);
      cache.set(name, body);
    }
    return body;
  };
  const headers = (name: string) => ({
    'content-type': files[name] as string,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });

  // public: the http server's auth hook lets `access: 'anonymous'` routes through
  const config = { access: 'anonymous' as const };
  app.get('/', { config }, async (_req, reply) => reply.headers(headers('index.html')).send(load('index.html')));
  app.get<{ Params: { file: string } }>('/console/:file', { config }, async (req, reply) => {
    const name = req.params.file;
    if (!Object.hasOwn(files, name)) return reply.code(404).send({ error: 'Not Found', message: 'no such file' });
    return reply.headers(headers(name)).send(load(name));
  });
}
