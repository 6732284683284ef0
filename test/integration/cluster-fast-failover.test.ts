/**
 * Failover in seconds (issue 18): the controller probes every broker's
 * native listener and fences one that refuses (its process is gone) or stays
 * silent past controller.broker.probe.timeout.ms, without waiting for its
 * ZooKeeper session. In a real three-broker cluster under an idempotent
 * acks=-1 stream to a 6-partition topic (replication factor 3,
 * min.insync.replicas=2):
 * - kill -9 of a broker that leads partitions (not the controller): nothing
 *   acknowledged is lost, and after it is restarted and back in every ISR
 *   every replica's log holds the same records up to the high watermark (no
 *   divergence);
 * - kill -9 of the controller while it leads partitions: the other brokers
 *   probe the controller, see its listener refuse and start a new election
 *   at once; the new controller fences it. Nothing lost;
 * - SIGSTOP of such a broker for 3 s (the ZooKeeper session timeout is 6 s
 *   here: only the probes can tell), then SIGCONT: the controller fenced it,
 *   nothing is lost, it rejoins every ISR under the same registration, the
 *   replicas' logs agree. The same for the controller: the other brokers
 *   probe it and start a new election.
 * The stall of each partition (from the signal to its first acknowledged
 * acks=-1 write, by a probe per partition) is printed, for the partitions the
 * victim led and for the others — no timed assertion.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RecordMetadata, Sluice } from '../../src/index.js';
import { TestCluster } from '../helpers/cluster.js';
import { checkStream, NumberedStream, probeFirstWrite } from '../helpers/numbered-stream.js';

const partitions = 6;
let cluster: TestCluster;
const lines: string[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({
    brokers: 3,
    // a session longer than the pause: only the controller's probes can tell the paused broker is away
    overrides: ['min.insync.replicas=2', 'zookeeper.session.timeout.ms=6000'],
    label: 'fast-failover',
  });
}, 90_000);

afterEach(async () => {
  for (const id of cluster?.ids ?? []) cluster.resume(id);
  await cluster?.ensureAllRunning();
}, 60_000);

afterAll(async () => {
  if (lines.length > 0) console.log(lines.join('\n'));
  await cluster?.stop();
}, 60_000);

async function waitForFullIsr(topic: string): Promise<void> {
  for (let p = 0; p < partitions; p++) await cluster.waitForIsr(topic, p, 3, 60_000);
}

/**
 * A broker that leads at least one partition of `topic`, with the partitions
 * it leads: the controller itself when `controller`, else another broker.
 */
async function pickVictim(topic: string, controller = false): Promise<{ victim: number; led: number[] }> {
  const controllerId = await cluster.waitForController();
  const d = await cluster.describe(topic);
  for (const id of cluster.ids) {
    if ((id === controllerId) !== controller) continue;
    const led = d.partitions.filter((p) => p.leader === id).map((p) => p.partition);
    if (led.length > 0) return { victim: id, led };
  }
  throw new Error(`no fitting broker (controller ${controllerId}) leads a partition of ${topic}`);
}

/** The first acknowledged acks=-1 write to every partition after `since`, in parallel. */
async function stalls(topic: string, since: number) {
  return Promise.all(Array.from({ length: partitions }, (_, p) => probeFirstWrite(cluster, topic, p, since)));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * probeFirstWrite for a broker that may hang rather than refuse (SIGSTOP):
 * a new acks=-1 attempt every 200 ms (each its own client on `bootstrap`, at
 * most 2 s), so one hanging attempt does not hide the moment writes resume.
 * Every acknowledged probe is returned (for checkStream).
 */
async function parallelProbe(topic: string, partition: number, since: number, bootstrap: string) {
  const acked: { value: string; partition: number; offset: number }[] = [];
  const attempts: Promise<void>[] = [];
  let first = 0;
  const deadline = Date.now() + 30_000;
  for (let n = 0; first === 0; n++) {
    if (Date.now() > deadline) throw new Error(`no acks=-1 write to ${topic}-${partition} within 30 s`);
    const value = `probe-${partition}-${since}-${n}`;
    attempts.push(
      (async () => {
        const sluice = new Sluice({
          brokers: bootstrap,
          clientId: 'pause-probe',
          retries: 0,
          connectTimeoutMs: 1000,
          requestTimeoutMs: 2000,
        });
        const producer = sluice.producer({ acks: -1, retries: 0, timeoutMs: 2000 });
        try {
          const [m] = await producer.send({ topic, messages: [{ key: 'probe', value, partition }] });
          first ||= Date.now();
          acked.push({ value, partition, offset: (m as RecordMetadata).offset });
        } catch {
          // not yet
        } finally {
          await producer.close().catch(() => undefined);
          await sluice.close().catch(() => undefined);
        }
      })(),
    );
    await Promise.race([sleep(200), ...attempts]);
  }
  await Promise.allSettled(attempts);
  return { ms: first - since, acked };
}

function report(what: string, led: number[], probes: { ms: number }[]): void {
  const ledMs = led.map((p) => probes[p]?.ms ?? -1);
  const otherMs = probes.map((x, p) => (led.includes(p) ? -1 : x.ms)).filter((ms) => ms >= 0);
  const line = `${what}: stall of the partitions it led ${JSON.stringify(ledMs)} ms (max ${Math.max(...ledMs)}), of the others ${JSON.stringify(otherMs)} ms (max ${Math.max(...otherMs)})`;
  lines.push(line);
  console.log(line);
}

/** Every replica's log of every partition holds the same records up to the high watermark. */
async function expectNoDivergence(topic: string): Promise<void> {
  const d = await cluster.describe(topic);
  for (const p of d.partitions) {
    const upToHw = (id: number) =>
      cluster.storedRecords(id, topic, p.partition).filter((r) => r.offset < p.highWatermark);
    const leaderLog = upToHw(p.leader);
    expect(leaderLog, `${topic}-${p.partition} on its leader ${p.leader}`).toHaveLength(p.highWatermark);
    await cluster.poll(`every replica of ${topic}-${p.partition} to match the leader's log`, 15_000, async () =>
      cluster.ids.every((id) => JSON.stringify(upToHw(id)) === JSON.stringify(leaderLog)) ? true : undefined,
    );
  }
}

async function expectIntact(
  stream: NumberedStream,
  probes: { acked: { value: string; partition: number; offset: number }[] }[],
) {
  await stream.done;
  const { problems } = await checkStream(
    cluster,
    stream,
    partitions,
    probes.flatMap((p) => p.acked),
  );
  expect(problems).toEqual([]);
  expect(stream.failures).toEqual([]);
  expect(stream.acked.size).toBe(stream.options.total);
}

async function pauseLeader(topic: string, controller: boolean): Promise<void> {
  await cluster.client().admin().createTopic({ topic, partitions, replicationFactor: 3 });
  await waitForFullIsr(topic);
  const { victim, led } = await pickVictim(topic, controller);
  const registration = await cluster.registration(victim);
  const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 1500, pauseMs: 10 });
  await stream.ackedAtLeast(300);

  const others = cluster.ids
    .filter((id) => id !== victim)
    .map((id) => cluster.broker(id).address)
    .join(',');
  const pausedAt = Date.now();
  cluster.pause(victim);
  const resumed = sleep(3000).then(() => cluster.resume(victim));
  let probes: Awaited<ReturnType<typeof parallelProbe>>[];
  try {
    probes = await Promise.all(Array.from({ length: partitions }, (_, p) => parallelProbe(topic, p, pausedAt, others)));
  } finally {
    await resumed;
  }
  report(`SIGSTOP of broker ${victim}${controller ? ', the controller,' : ''} (3 s)`, led, probes);
  await expectIntact(stream, probes);
  await waitForFullIsr(topic);
  // the same registration throughout: the probes fenced it, its session never ended
  expect(await cluster.registration(victim)).toEqual(registration);
  const controllerNow = await cluster.waitForController();
  if (controller) expect(controllerNow).not.toBe(victim);
  expect(cluster.broker(controllerNow).recentOutput).toContain('controller fenced a broker');
  expect(cluster.broker(controllerNow).recentOutput).toContain('controller unfenced a broker');
  expect(cluster.broker(victim).recentOutput).toContain('following partition');
  await expectNoDivergence(topic);
}

describe('failover in seconds', () => {
  it('kill -9 of a leader: its partitions and the others resume, nothing lost, no divergence after it returns', async () => {
    const topic = 'fast-kill';
    await cluster.client().admin().createTopic({ topic, partitions, replicationFactor: 3 });
    await waitForFullIsr(topic);
    const { victim, led } = await pickVictim(topic);
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 1500, pauseMs: 10 });
    await stream.ackedAtLeast(300);

    const killedAt = await cluster.kill(victim);
    expect(stream.acked.size, 'the stream was over before the kill').toBeLessThan(1500);
    const probes = await stalls(topic, killedAt);
    report(`kill -9 of broker ${victim}`, led, probes);
    await expectIntact(stream, probes);

    await cluster.restart(victim);
    await waitForFullIsr(topic);
    await expectNoDivergence(topic);
  }, 120_000);

  it('kill -9 of the controller (a leader too): a new controller at once, nothing lost', async () => {
    const topic = 'fast-kill-controller';
    await cluster.client().admin().createTopic({ topic, partitions, replicationFactor: 3 });
    await waitForFullIsr(topic);
    const { victim, led } = await pickVictim(topic, true);
    const stream = new NumberedStream(cluster.client({ retries: 20 }), topic, { total: 1500, pauseMs: 10 });
    await stream.ackedAtLeast(300);

    const killedAt = await cluster.kill(victim);
    expect(stream.acked.size, 'the stream was over before the kill').toBeLessThan(1500);
    const probes = await stalls(topic, killedAt);
    report(`kill -9 of broker ${victim}, the controller`, led, probes);
    expect(await cluster.waitForController([victim])).not.toBe(victim);
    await expectIntact(stream, probes);

    await cluster.restart(victim);
    await waitForFullIsr(topic);
    await expectNoDivergence(topic);
  }, 120_000);

  // A leader stopped for 3 s is fenced while its ZooKeeper session lives. Once found losing an acknowledged
  // record (2026-12-06): a follower's fetch, chosen before a truncation round trip to the stopped leader,
  // named a partition that had meanwhile moved, with the new leader's log end, and the resumed leader
  // counted it; see replica-fetcher.test.ts.
  it('SIGSTOP of a leader for 3 s, then SIGCONT: fenced, nothing lost, it rejoins every ISR', async () => {
    await pauseLeader('fast-pause', false);
  }, 120_000);

  it('SIGSTOP of the controller (a leader too) for 3 s: another broker takes over, nothing lost, it rejoins', async () => {
    await pauseLeader('fast-pause-controller', true);
  }, 120_000);
});
