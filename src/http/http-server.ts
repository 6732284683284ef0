/**
 * The admin HTTP API (fastify) on http.host:http.port: JSON under /api/ with
 * a JSON schema per route (bad input is a 400) and an OpenAPI document built
 * from those schemas, /metrics (Prometheus), /healthz and /readyz. Data comes
 * from the broker's own native API through the client library. Every route
 * but login, /healthz and /readyz needs a session cookie or HTTP Basic auth:
 * anonymous is 401, a viewer on an admin route 403.
 */

import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { Sluice } from '../client/sluice.js';
import { interBrokerSaslOption } from '../config/inter-broker-sasl.js';
import { httpTlsOf } from '../config/tls-config.js';
import { parseSuperUsers } from '../security/acl.js';
import { type HttpStatus, httpStatusOf, SluiceError } from '../shared/errors.js';
import { registerClusterRoutes, registerMessageBrowser } from './cluster-routes.js';
import { type ConsoleDirectory, RecordsDirectory, StoreDirectory } from './console-directory.js';
import { registerGroupRoutes } from './group-routes.js';
import type { HttpServerOptions } from './http-options.js';
import { LoginGuard } from './login-guard.js';
import { registerMessageRoutes } from './message-routes.js';
import { openApiDocument } from './openapi.js';
import { registerQueueRoutes } from './queue-routes.js';
import { type Access, addRoute, anyObject, errorSchema, str } from './routes.js';
import { type Session, SessionStore, sessionCookie, sessionTtlMsDefault } from './sessions.js';
import { parseTrustedProxies } from './trusted-proxies.js';
import { loadUsers } from './users.js';
import { importUsersFile, warnOnShippedPasswords } from './users-import.js';

export type { HttpMetrics, HttpServerOptions } from './http-options.js';
export { openApiDocument } from './openapi.js';
export { sessionCookie } from './sessions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    session?: Session;
  }
  interface FastifySchema {
    summary?: string;
    produces?: string[];
  }
}

const httpStatusText: Record<HttpStatus, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  502: 'Bad Gateway',
};

const tooManyWaiting = {
  error: 'Too Many Requests',
  message: 'too many login attempts for this user are waiting from this address; try again later',
};

export interface HttpServer {
  address: { host: string; port: number };
  /** Served over TLS (http.ssl.*). */
  https: boolean;
  app: FastifyInstance;
  close(): Promise<void>;
}

function cookieToken(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === sessionCookie) return rest.join('=');
  }
  return undefined;
}

function basicCredentials(req: FastifyRequest): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const text = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

const noRights = (username: string): string =>
  `user ${username} has no rights on the cluster: the console needs an ACL allowing Describe on the cluster (admin routes: Alter), or super.users`;

/**
 * The console's users: the broker's SCRAM store and ACLs, with the former users file imported once;
 * a coordinator without a user store (none today) falls back to reading the file itself.
 */
async function consoleDirectory(options: HttpServerOptions): Promise<ConsoleDirectory> {
  const { config, coordinator, logger } = options;
  const file = config.string('http.users.file');
  const { scramCredentials: credentials, legacyConsoleUsers: legacy } = coordinator;
  if (!credentials || !legacy || !coordinator.acls || !coordinator.createAcls) {
    return new RecordsDirectory(await loadUsers(file, (message) => logger.warn(message)));
  }
  const createAcls = coordinator.createAcls.bind(coordinator);
  const pending = await importUsersFile({ file, credentials, legacy, createAcls, logger });
  return new StoreDirectory({
    credentials,
    legacy,
    pending,
    acls: coordinator.acls.bind(coordinator),
    authorizer: {
      enabled: config.bool('authorizer.enabled') || config.string('authorizer.class.name') !== '',
      superUsers: parseSuperUsers(config.string('super.users')),
      allowEveryoneIfNoAclFound: config.bool('allow.everyone.if.no.acl.found'),
    },
    logger,
  });
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { config, logger } = options;
  // behind a trusted reverse proxy req.ip is the client it forwards for (login delays are per address)
  const trustProxy = parseTrustedProxies(config.string('http.trusted.proxies'));
  const users = options.users ? new RecordsDirectory(options.users) : await consoleDirectory(options);
  const sessions = new SessionStore();
  const guard = new LoginGuard(users, logger, options.loginThrottle);
  // a few hashes, off the start's path: the warning is for the operator, nothing waits on it
  warnOnShippedPasswords(users, logger).catch((err: unknown) => logger.warn({ err }, 'shipped password check failed'));
  const address = options.brokerAddress();
  const client = new Sluice({
    brokers: `${address.host}:${address.port}`,
    clientId: 'sluice-http',
    retries: 2,
    ...(options.brokerTls ? { ssl: options.brokerTls } : {}),
    // the broker's own client: on a SASL native listener it authenticates as the inter-broker user
    ...interBrokerSaslOption(config),
  });
  const admin = client.admin();
  // http.ssl.keystore.location: HTTPS (the same routes; only the server under them differs)
  const https = httpTlsOf(config);
  const app = (
    https
      ? Fastify({ logger: false, bodyLimit: 1024 * 1024, trustProxy, https })
      : Fastify({ logger: false, bodyLimit: 1024 * 1024, trustProxy })
  ) as FastifyInstance;
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    if (route.method !== 'HEAD') routes.push(route);
  });

  async function authenticate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const access = req.routeOptions.config.access ?? 'admin';
    if (access === 'anonymous') return;
    let session: Session | undefined;
    const token = cookieToken(req);
    if (token) session = sessions.get(token);
    const basic = session ? undefined : basicCredentials(req);
    if (basic) {
      // a failure is slowed down, never a reason to refuse the right password (login-guard.ts)
      const outcome = await guard.check(basic.username, basic.password, req.ip, 'basic');
      if (outcome.kind === 'busy') {
        await reply.code(429).header('retry-after', guard.retryAfterSeconds).send(tooManyWaiting);
        return;
      }
      if (outcome.kind === 'ok') session = { username: outcome.username, role: 'viewer', expiresAt: 0 };
    }
    if (!session) {
      // the Basic challenge is for tools (curl, Prometheus); a page's own fetch gets a plain 401 so the
      // browser shows no password dialog of its own (and headless Chromium does not stall on it)
      if (req.headers['x-requested-with'] === undefined) reply.header('www-authenticate', 'Basic realm="sluice"');
      await reply.code(401).send({ error: 'Unauthorized', message: 'log in or use HTTP Basic auth' });
      return;
    }
    // the role from the ACLs as they are now: a revoked right ends at once, open sessions included
    const role = users.roleOf(session.username, req.ip);
    if (role === undefined) {
      await reply.code(403).send({ error: 'Forbidden', message: noRights(session.username) });
      return;
    }
    if (access === 'admin' && role !== 'admin') {
      await reply.code(403).send({ error: 'Forbidden', message: `role ${role} may not do this` });
      return;
    }
    req.session = { ...session, role };
  }
  app.addHook('onRequest', authenticate);

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err.validation) return reply.code(400).send({ error: 'Bad Request', message: err.message });
    if (err instanceof SluiceError) {
      // the error table's status for the error's condition (its code, or the broker's answer it reports)
      const status = httpStatusOf(err);
      return reply.code(status).send({ error: httpStatusText[status], message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error({ err }, 'HTTP API request failed');
    return reply
      .code(status)
      .send({ error: status === 500 ? 'Internal Server Error' : 'Bad Request', message: err.message });
  });

  // ---- auth ----
  addRoute<{ Body: { username: string; password: string } }>(app, {
    method: 'POST',
    url: '/api/login',
    summary: 'Log in: sets the sluice_session cookie',
    role: 'anonymous',
    body: {
      type: 'object',
      required: ['username', 'password'],
      additionalProperties: false,
      properties: {
        username: { type: 'string', minLength: 1, maxLength: 64 },
        password: { type: 'string', maxLength: 1024 },
      },
    },
    response: {
      200: { type: 'object', properties: { username: str, role: str } },
      401: errorSchema,
      403: errorSchema,
      429: errorSchema,
    },
    handler: async (req, reply) => {
      const { username, password } = req.body;
      const outcome = await guard.check(username, password, req.ip, 'console');
      if (outcome.kind === 'busy') {
        return reply.code(429).header('retry-after', guard.retryAfterSeconds).send(tooManyWaiting);
      }
      if (outcome.kind === 'wrong') {
        return reply.code(401).send({ error: 'Unauthorized', message: 'wrong username or password' });
      }
      const role = users.roleOf(outcome.username, req.ip);
      if (role === undefined) {
        logger.info({ remote: req.ip, username }, 'console login refused: no rights on the cluster');
        return reply.code(403).send({ error: 'Forbidden', message: noRights(username) });
      }
      const user = { username: outcome.username, role };
      const token = sessions.create(user.username, user.role);
      reply.header(
        'set-cookie',
        // over HTTPS the cookie is never sent in the clear
        `${sessionCookie}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(sessionTtlMsDefault / 1000)}${https ? '; Secure' : ''}`,
      );
      logger.info({ remote: req.ip, username }, 'console login');
      return { username: user.username, role: user.role };
    },
  });
  addRoute(app, {
    method: 'POST',
    url: '/api/logout',
    summary: 'Log out (ends the session)',
    role: 'anonymous',
    handler: async (req, reply) => {
      const token = cookieToken(req);
      if (token) sessions.delete(token);
      reply.header('set-cookie', `${sessionCookie}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      return { ok: true };
    },
  });
  addRoute(app, {
    method: 'GET',
    url: '/api/me',
    summary: 'Who is logged in',
    role: 'viewer',
    response: { 200: { type: 'object', properties: { username: str, role: str } } },
    handler: async (req) => ({ username: req.session?.username, role: req.session?.role }),
  });

  // ---- by area (the order they register in is the order of the OpenAPI paths) ----
  registerClusterRoutes(app, admin, options);
  registerGroupRoutes(app, admin);
  registerQueueRoutes(app, admin, config);
  registerMessageBrowser(app, client, admin);
  registerMessageRoutes(app, client, admin);

  // ---- metrics, health, OpenAPI ----
  addRoute(app, {
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics',
    role: 'viewer',
    produces: ['text/plain'],
    handler: async (_req, reply) => {
      if (!options.metrics) return reply.type('text/plain').send('');
      return reply.type(options.metrics.contentType).send(await options.metrics.text());
    },
  });
  addRoute(app, {
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness',
    role: 'anonymous',
    response: { 200: { type: 'object', properties: { status: str } } },
    handler: async () => ({ status: 'ok' }),
  });
  addRoute(app, {
    method: 'GET',
    url: '/readyz',
    summary: "Readiness: the broker's native listener answers ApiVersions",
    role: 'anonymous',
    response: { 200: anyObject, 503: anyObject },
    handler: async (_req, reply) => {
      try {
        await options.ready();
        return { status: 'ready' };
      } catch (err) {
        return reply.code(503).send({ status: 'not ready', message: (err as Error).message });
      }
    },
  });
  addRoute(app, {
    method: 'GET',
    url: '/api/openapi.json',
    summary: 'This OpenAPI document',
    role: 'viewer',
    response: { 200: anyObject },
    handler: async () => openApiDocument(routes),
  });

  // console hook: the web console's static files and routes (src/http/console-routes.ts) when present
  await registerConsoleIfPresent(app);

  await app.listen({ host: config.string('http.host'), port: config.int('http.port') });
  const bound = app.server.address();
  const httpAddress =
    bound && typeof bound === 'object'
      ? { host: bound.address, port: bound.port }
      : { host: config.string('http.host'), port: config.int('http.port') };
  logger.info({ host: httpAddress.host, port: httpAddress.port, https: https !== undefined }, 'http listening');
  return {
    address: httpAddress,
    https: https !== undefined,
    app,
    async close() {
      // waiting logins are refused and failure delays cut short, so closing does not wait for them
      guard.close();
      await app.close();
      await client.close();
    },
  };
}

async function registerConsoleIfPresent(app: FastifyInstance): Promise<void> {
  const here = new URL('./console-routes.', import.meta.url);
  const candidates = [new URL(`${here.href}js`), new URL(`${here.href}ts`)];
  const found = candidates.find((u) => existsSync(u));
  if (!found) return;
  const mod = (await import(found.href)) as { registerConsole?: (app: FastifyInstance) => unknown };
  await mod.registerConsole?.(app);
}
