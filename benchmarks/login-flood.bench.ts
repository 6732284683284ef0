/**
 * Failed-login flood against the admin HTTP server (in process, fastify
 * inject, the shipped delays and bounds): `--concurrency` loops send wrong
 * Basic passwords for `admin` to /metrics from one address for `--seconds`.
 * Meanwhile, once a second: the right admin password from another address
 * (console login), the right viewer password from the flooding address
 * (Basic /metrics), and the right admin password from the flooding address.
 * Prints guesses checked per second, refusals, CPU used and how long the
 * right passwords took. Usage: npx tsx benchmarks/login-flood.bench.ts [--seconds 15] [--concurrency 50]
 */
import { parseBrokerConfig } from '../src/config/broker-config.js';
import type { Coordinator } from '../src/coordination/coordinator.js';
import { startHttpServer } from '../src/http/http-server.js';
import { hashPassword, parseUsers } from '../src/http/users.js';
import { silentLogger } from '../src/shared/logger.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seconds = arg('seconds', 15);
const concurrency = arg('concurrency', 50);
const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

const users = parseUsers(
  [`admin=${await hashPassword('pw-admin', 'admin')}`, `viewer=${await hashPassword('pw-viewer', 'viewer')}`].join(
    '\n',
  ),
);
const server = await startHttpServer({
  config: parseBrokerConfig(new Map([['http.port', '0']])),
  logger: silentLogger,
  brokerAddress: () => ({ host: '127.0.0.1', port: 1 }),
  coordinator: { brokers: () => [], controllerId: () => 0 } as unknown as Coordinator,
  mode: 'standalone',
  ready: () => Promise.reject(new Error('no broker in this benchmark')),
  users,
});

const statuses = new Map<number, number>();
let stop = false;
const cpuBefore = process.cpuUsage();
const started = performance.now();
const loops = Array.from({ length: concurrency }, async (_, loop) => {
  for (let i = 0; !stop; i++) {
    const res = await server.app.inject({
      url: '/metrics',
      headers: { authorization: basic('admin', `guess-${loop}-${i}`) },
      remoteAddress: '10.6.6.6',
    });
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode === 429) await new Promise((r) => setTimeout(r, 10)); // a client that retries at once
  }
});

const legit: Record<string, { ms: number[]; statuses: number[] }> = {
  'admin, other address (console login)': { ms: [], statuses: [] },
  'viewer, flooding address (Basic /metrics)': { ms: [], statuses: [] },
  'admin, flooding address (Basic /metrics)': { ms: [], statuses: [] },
};
const probes: Promise<void>[] = [];
for (let s = 1; s < seconds; s++) {
  await new Promise((r) => setTimeout(r, 1000));
  const probe = async (name: string, request: () => Promise<{ statusCode: number }>): Promise<void> => {
    const t0 = performance.now();
    const res = await request();
    legit[name]?.ms.push(performance.now() - t0);
    legit[name]?.statuses.push(res.statusCode);
  };
  probes.push(
    probe('admin, other address (console login)', () =>
      server.app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { username: 'admin', password: 'pw-admin' },
        remoteAddress: '192.0.2.1',
      }),
    ),
    probe('viewer, flooding address (Basic /metrics)', () =>
      server.app.inject({
        url: '/metrics',
        headers: { authorization: basic('viewer', 'pw-viewer') },
        remoteAddress: '10.6.6.6',
      }),
    ),
    probe('admin, flooding address (Basic /metrics)', () =>
      server.app.inject({
        url: '/metrics',
        headers: { authorization: basic('admin', 'pw-admin') },
        remoteAddress: '10.6.6.6',
      }),
    ),
  );
}
await Promise.all(probes);
stop = true;
const floodSeconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await Promise.all(loops);
await server.close();

const checked = statuses.get(401) ?? 0;
console.log(`flood: ${concurrency} concurrent loops, ${floodSeconds.toFixed(1)} s`);
console.log(`  wrong passwords checked (401): ${checked} = ${(checked / floodSeconds).toFixed(2)}/s`);
console.log(`  refused at once (429): ${statuses.get(429) ?? 0}; other: ${JSON.stringify([...statuses])}`);
console.log(`  CPU: ${((cpu.user + cpu.system) / 1e4 / floodSeconds).toFixed(1)}% of one core`);
for (const [name, r] of Object.entries(legit)) {
  const sorted = [...r.ms].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
  const counts: Record<number, number> = {};
  for (const s of r.statuses) counts[s] = (counts[s] ?? 0) + 1;
  console.log(
    `  ${name}: statuses ${JSON.stringify(counts)}, ms p50 ${p50.toFixed(0)} max ${(sorted.at(-1) ?? 0).toFixed(0)}`,
  );
}
