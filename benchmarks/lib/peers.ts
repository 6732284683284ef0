/**
 * Peers on the same machine, each driven by its own benchmark tool (Debian's
 * packages; `npm run peers:install` installs them). Each runs in the
 * foreground on 127.0.0.1 with a private data dir and is stopped by PID.
 *
 * - Redis Streams: redis-server (AOF everysec, or no persistence) and
 *   `redis-benchmark -P 64 -c 50 XADD s '*' f <100-byte value>` (redis-benchmark
 *   ignores -d for custom commands, so the value is passed literally).
 * - ActiveMQ 5.17: a persistent queue (KahaDB, its defaults), the producer and
 *   consumer tools of activemq.jar, 100-byte BytesMessages.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  type Child,
  canConnect,
  commandExists,
  freePort,
  removeDir,
  runChild,
  spawnChild,
  stopChild,
  tempDir,
  waitFor,
} from './procs.js';

// ---- Redis ----

export function redisMissing(): string | null {
  if (!commandExists('redis-server') || !commandExists('redis-benchmark') || !commandExists('redis-cli')) {
    return 'not installed (redis-server, redis-tools), skipped';
  }
  return null;
}

export type RedisPersistence = 'aof-everysec' | 'none';

export class RedisServer {
  private constructor(
    readonly child: Child,
    readonly port: number,
    readonly dir: string,
    readonly persistence: RedisPersistence,
  ) {}

  static async start(persistence: RedisPersistence): Promise<RedisServer> {
    const dir = tempDir(`sluice-bench-redis-${persistence}-`);
    const port = await freePort();
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', ''];
    args.push(
      ...(persistence === 'none' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'everysec']),
    );
    const child = spawnChild(`redis-server (${persistence})`, 'redis-server', args);
    const server = new RedisServer(child, port, dir, persistence);
    try {
      await waitFor('redis-server', () => canConnect(port), 20_000, child);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** One redis-benchmark run of `requests` pipelined XADDs; returns ops/s (redis-benchmark's own figure). */
  async xadd(requests: number): Promise<number> {
    const value = 'v'.repeat(100);
    const out = await runChild(
      'redis-benchmark',
      'redis-benchmark',
      ['-h', '127.0.0.1', '-p', String(this.port), '-P', '64', '-c', '50', '-n', String(requests), '--csv'].concat([
        'XADD',
        's',
        '*',
        'f',
        value,
      ]),
      { timeoutMs: 120_000 },
    );
    const line = out.split('\n').find((l) => l.startsWith('"XADD'));
    const rps = line ? Number(line.split('","')[1]) : Number.NaN;
    if (!Number.isFinite(rps)) throw new Error(`redis-benchmark: no rps in its output:\n${out.slice(-1000)}`);
    // empty the stream so every run starts alike (the AOF is rewritten by Redis as it grows)
    await runChild('redis-cli', 'redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'DEL', 's']);
    return rps;
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    removeDir(this.dir);
  }
}

// ---- ActiveMQ ----

const activemqHome = '/usr/share/activemq';
const activemqJar = path.join(activemqHome, 'bin/activemq.jar');
/** JVM flags of Debian's /usr/bin/activemq (Java 17 needs the opens). */
const jvmOpens = [
  '--add-reads=java.xml=java.logging',
  ...[
    'java.base/java.security',
    'java.base/java.net',
    'java.base/java.lang',
    'java.base/java.util',
    'java.naming/javax.naming.spi',
    'java.rmi/sun.rmi.transport.tcp',
    'java.base/java.util.concurrent',
    'java.base/java.util.concurrent.atomic',
  ].flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`]),
];

export function activemqMissing(): string | null {
  if (!commandExists('java') || !fs.existsSync(activemqJar)) return 'not installed (activemq), skipped';
  return null;
}

export interface ActiveMqCounts {
  /** Messages sent one by one (each a synchronous persistent send). */
  sync: number;
  /** Messages sent in transactions of 1000. */
  tx: number;
}

export class ActiveMq {
  private constructor(
    readonly child: Child,
    readonly port: number,
    readonly dir: string,
  ) {}

  private static systemProps(base: string, log4j: string): string[] {
    return [
      `-Dactivemq.home=${activemqHome}`,
      `-Dactivemq.base=${base}`,
      `-Dactivemq.conf=${base}`,
      `-Dactivemq.data=${path.join(base, 'data')}`,
      `-Dlog4j.configuration=file:${log4j}`,
    ];
  }

  static async start(): Promise<ActiveMq> {
    const dir = tempDir('sluice-bench-activemq-');
    const port = await freePort();
    const data = path.join(dir, 'data');
    fs.mkdirSync(path.join(dir, 'cli'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'activemq.xml'),
      `<beans xmlns="http://www.springframework.org/schema/beans" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="bench" persistent="true"
          schedulerSupport="false" dataDirectory="${data}">
    <persistenceAdapter><kahaDB directory="${path.join(data, 'kahadb')}"/></persistenceAdapter>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://127.0.0.1:${port}"/>
    </transportConnectors>
  </broker>
</beans>
`,
    );
    // log4j 1.2 for the perf tools: relative milliseconds first, so the consumer's lines time it
    fs.writeFileSync(
      path.join(dir, 'log4j.properties'),
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=%r %m%n',
        '',
      ].join('\n'),
    );
    const child = spawnChild('activemq', 'java', [
      '-Xms512M',
      '-Xmx512M',
      '-Dorg.apache.activemq.UseDedicatedTaskRunner=true',
      ...jvmOpens,
      ...ActiveMq.systemProps(dir, path.join(dir, 'log4j.properties')),
      '-jar',
      activemqJar,
      'start',
      `xbean:file:${path.join(dir, 'activemq.xml')}`,
    ]);
    const amq = new ActiveMq(child, port, dir);
    try {
      await waitFor('activemq', () => canConnect(port), 60_000, child, 200);
    } catch (err) {
      await amq.stop();
      throw err;
    }
    return amq;
  }

  private tool(name: string, args: string[]): Promise<string> {
    const cli = path.join(this.dir, 'cli');
    return runChild(
      `activemq ${name}`,
      'java',
      [
        '-Xmx256M',
        ...ActiveMq.systemProps(cli, path.join(this.dir, 'log4j.properties')),
        '-jar',
        activemqJar,
        name,
        '--brokerUrl',
        `tcp://127.0.0.1:${this.port}`,
        ...args,
      ],
      { timeoutMs: 300_000 },
    );
  }

  /** The producer tool's own elapsed time for `count` persistent 100-byte messages → msgs/s. */
  async send(queue: string, count: number, transactionBatchSize = 0): Promise<number> {
    const args = ['--destination', `queue://${queue}`, '--persistent', 'true', '--messageSize', '100'];
    args.push('--messageCount', String(count));
    if (transactionBatchSize > 0) args.push('--transactionBatchSize', String(transactionBatchSize));
    const out = await this.tool('producer', args);
    const m = /Elapsed time in milli second : (\d+) milli seconds/.exec(out);
    if (!m) throw new Error(`activemq producer: no elapsed time in its output:\n${out.slice(-1000)}`);
    return count / (Math.max(1, Number(m[1])) / 1000);
  }

  /**
   * Consumes the backlog (up to `count` messages), timed from the consumer's
   * first received message to its last (its log lines carry relative
   * milliseconds). The tool waits for exactly `count` messages, but its
   * transacted producer leaves the last transaction uncommitted, so the
   * consumer is stopped (by PID) once no message arrived for 3 s.
   */
  async consume(queue: string, count: number): Promise<{ rate: number; received: number }> {
    let first = Number.NaN;
    let last = Number.NaN;
    let received = 0;
    let lastProgress = Date.now();
    const started = Date.now();
    const cli = path.join(this.dir, 'cli');
    const child = spawnChild('activemq consumer', 'java', [
      '-Xmx256M',
      ...ActiveMq.systemProps(cli, path.join(this.dir, 'log4j.properties')),
      '-jar',
      activemqJar,
      'consumer',
      '--brokerUrl',
      `tcp://127.0.0.1:${this.port}`,
      '--destination',
      `queue://${queue}`,
      '--messageCount',
      String(count),
    ]);
    child.onLine((line) => {
      const m = /^(\d+) consumer-\d+ Received /.exec(line);
      if (!m) return;
      received++;
      lastProgress = Date.now();
      const t = Number(m[1]);
      if (Number.isNaN(first)) first = t;
      last = t;
    });
    const watchdog = setInterval(() => {
      const idle = Date.now() - lastProgress;
      if ((received > 0 && idle > 3_000) || Date.now() - started > 300_000) void stopChild(child, 0);
    }, 250);
    try {
      await child.exited;
    } finally {
      clearInterval(watchdog);
      await stopChild(child, 0);
    }
    if (received < 2)
      throw new Error(`activemq consumer: ${received} of ${count} messages:\n${child.output().slice(-1000)}`);
    // the first message's own time is unknown: count the n-1 intervals after it
    return { rate: (received - 1) / (Math.max(1, last - first) / 1000), received };
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 10_000);
    removeDir(this.dir);
  }
}
