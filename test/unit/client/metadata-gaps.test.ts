/**
 * Metadata answers with gaps — what brokers send while the cluster changes (a
 * controller paused past its session, a broker rebuilding its cache or still
 * waiting to register) — fed to the client's metadata paths by a tiny in-test
 * broker speaking the native frame format. Every gap must come out as a typed
 * retriable error that the bounded retry rides out, never as a TypeError, and
 * a group leader must not hand out an assignment that silently leaves a
 * subscribed topic out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rangeAssignor } from '../../../src/client/assignors/index.js';
import { parseBrokers } from '../../../src/client/brokers.js';
import { Cluster } from '../../../src/client/cluster.js';
import { isRetriableError } from '../../../src/client/errors.js';
import { GroupMembership } from '../../../src/client/group-membership.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import type { TopicPartitions } from '../../../src/protocol/native/consumer-protocol.js';
import { SluiceError } from '../../../src/shared/errors.js';
import { type AnyBody, type FakeHandler, fakeNativeBroker } from '../../helpers/fake-native-broker.js';

type Any = AnyBody;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A broker that answers each request with `handler`'s result (its own port passed in). */
async function fakeBroker(handler: FakeHandler): Promise<number> {
  const broker = await fakeNativeBroker(handler);
  cleanups.push(broker.close);
  return broker.port;
}

function cluster(port: number, retries = 0): Cluster {
  const c = new Cluster({
    brokers: parseBrokers(`127.0.0.1:${port}`),
    clientId: 'metadata-gaps-test',
    connectTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    maxInFlight: 5,
    retries,
    retryBackoffMs: 5,
    emit: () => undefined,
  });
  cleanups.push(() => c.close());
  return c;
}

const partition = (p: number, leader = 0): Any => ({
  partition: p,
  errorCode: 0,
  leader,
  leaderEpoch: 0,
  replicas: [0],
  isr: [0],
});
const broker = (port: number): Any => ({ nodeId: 0, host: '127.0.0.1', port });
const good = (port: number, partitions = 4): Any => ({
  errorCode: 0,
  controllerId: 0,
  brokers: [broker(port)],
  topics: [{ name: 't', errorCode: 0, partitions: Array.from({ length: partitions }, (_, p) => partition(p)) }],
});

/** The answer with partition 0 led by `leader`. */
function withLeader(answer: Any, leader: number): Any {
  answer.topics[0].partitions[0].leader = leader;
  return answer;
}

/** Each gap seen under load or in a broken answer, as the broker would send it. */
const gaps: [string, (port: number) => unknown][] = [
  ['no brokers (a broker not yet registered)', (port) => ({ ...good(port), brokers: [] })],
  ['brokers field missing', (port) => ({ ...good(port), brokers: undefined })],
  ['topics field missing', (port) => ({ ...good(port), topics: undefined })],
  ['topic missing from the answer', (port) => ({ ...good(port), topics: [] })],
  [
    'partitions field missing',
    (port) => ({ ...good(port), topics: [{ name: 't', errorCode: 0, partitions: undefined }] }),
  ],
  ['partitions empty', (port) => ({ ...good(port), topics: [{ name: 't', errorCode: 0, partitions: [] }] })],
  [
    'a partition missing (a hole)',
    (port) => ({ ...good(port), topics: [{ name: 't', errorCode: 0, partitions: [partition(1), partition(2)] }] }),
  ],
  [
    'a null partition entry',
    (port) => ({ ...good(port), topics: [{ name: 't', errorCode: 0, partitions: [null, partition(1)] }] }),
  ],
  ['a partition without a leader', (port) => withLeader(good(port), -1)],
  ['a leader not among the brokers', (port) => withLeader(good(port), 7)],
];

describe('metadata with gaps', () => {
  it.each(gaps)('%s: leaderOf() fails with a typed retriable error, not a TypeError', async (_what, answer) => {
    const port = await fakeBroker((apiKey, _body, p) => (apiKey === ApiKey.Metadata ? answer(p) : undefined));
    const c = cluster(port);
    const err = await c.leaderOf('t', 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SluiceError);
    expect(isRetriableError(err)).toBe(true);
  });

  it.each(gaps)('%s, then a complete answer: the bounded retry rides it out', async (_what, answer) => {
    let asked = 0;
    const port = await fakeBroker((apiKey, _body, p) => {
      if (apiKey !== ApiKey.Metadata) return undefined;
      asked++;
      return asked <= 2 ? answer(p) : good(p);
    });
    const c = cluster(port, 5);
    expect(await c.retry(() => c.leaderOf('t', 0))).toBe(0);
    const info = await c.retry(() => c.topic('t', { force: true }));
    expect(info.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
    expect(asked).toBeGreaterThanOrEqual(3);
  });

  it("answers from its own metadata even when a broken connection empties the cache meanwhile (was: reading 'partitions' of undefined)", async () => {
    const port = await fakeBroker((apiKey, _body, p) => (apiKey === ApiKey.Metadata ? good(p) : undefined));
    const c = cluster(port);
    // a connection to some broker breaks (invalidate() empties the cache) just as a metadata answer lands
    const refresh = c.refreshMetadata.bind(c);
    c.refreshMetadata = async (...args: Parameters<Cluster['refreshMetadata']>) => {
      const res = await refresh(...args);
      c.invalidate();
      return res;
    };
    expect(await c.leaderOf('t', 2)).toBe(0);
    expect((await c.topic('t', { force: true })).partitions).toHaveLength(4);
  });

  it('asks a broker whose answer names no broker last: the next request goes to another broker', async () => {
    const empty = await fakeBroker((apiKey, _body, p) =>
      apiKey === ApiKey.Metadata ? { ...good(p), brokers: [] } : undefined,
    );
    let askedFull = 0;
    const full = await fakeBroker((apiKey, _body, p) => {
      if (apiKey !== ApiKey.Metadata) return undefined;
      askedFull++;
      return good(p);
    });
    const c = new Cluster({
      brokers: parseBrokers(`127.0.0.1:${empty},127.0.0.1:${full}`),
      clientId: 'metadata-gaps-test',
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
      maxInFlight: 5,
      retries: 3,
      retryBackoffMs: 5,
      emit: () => undefined,
    });
    cleanups.push(() => c.close());
    // the first candidate is the empty one (no randomisation by default); one retry reaches the other
    expect(await c.retry(() => c.leaderOf('t', 1))).toBe(0);
    expect(askedFull).toBeGreaterThan(0);
  });

  it('a group leader whose metadata lacks a subscribed topic asks again instead of assigning without it', async () => {
    let metadataAnswers = 0;
    let generation = 0;
    const port = await fakeBroker((apiKey, body, p) => {
      switch (apiKey) {
        case ApiKey.Metadata:
          metadataAnswers++;
          // the first answers come from a broker whose cache is still filling: no topic 't' yet
          return metadataAnswers <= 2 ? { ...good(p), topics: [] } : good(p);
        case ApiKey.FindCoordinator:
          return { errorCode: 0, nodeId: 0, host: '127.0.0.1', port: p };
        case ApiKey.JoinGroup: {
          generation++;
          const memberId = body.memberId === '' ? 'm1' : body.memberId;
          return {
            errorCode: 0,
            generationId: generation,
            protocolName: 'range',
            leader: memberId,
            memberId,
            members: [{ memberId, metadata: body.protocols[0].metadata }],
          };
        }
        case ApiKey.SyncGroup: {
          const mine = body.assignments.find((a: Any) => a.memberId === body.memberId);
          return { errorCode: 0, assignment: mine.assignment };
        }
        case ApiKey.Heartbeat:
        case ApiKey.LeaveGroup:
          return { errorCode: 0 };
        default:
          return { errorCode: WireError.INVALID_REQUEST };
      }
    });
    const assigned: TopicPartitions[][] = [];
    const fatal: Error[] = [];
    const m = new GroupMembership(
      cluster(port, 3),
      {
        groupId: 'g',
        sessionTimeoutMs: 3000,
        rebalanceTimeoutMs: 3000,
        heartbeatIntervalMs: 20,
        assignors: [rangeAssignor],
      },
      {
        topics: async () => ['t'],
        dynamicTopics: () => false,
        revoke: async () => undefined,
        assign: async (partitions) => {
          assigned.push(partitions);
        },
        fatal: (err) => fatal.push(err),
      },
    );
    m.start();
    const deadline = Date.now() + 5000;
    while (assigned.length === 0 && fatal.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await m.stop();
    expect(fatal).toEqual([]);
    // the first assignment this member got already holds every partition of 't'
    expect(assigned[0]).toEqual([{ topic: 't', partitions: [0, 1, 2, 3] }]);
  });
});

describe('a broker that names an older leader than one already seen', () => {
  it('is not believed: the lookup fails retriably, and the next metadata is asked of another broker', async () => {
    // broker 1 was cut off from ZooKeeper: it still names itself leader of t-0 at epoch 3; broker 2 knows epoch 4
    let asked: number[] = [];
    let port1 = 0;
    let port2 = 0;
    const answer = (me: number, leader: number, epoch: number): Any => ({
      errorCode: 0,
      controllerId: 2,
      brokers: [
        { nodeId: 1, host: '127.0.0.1', port: port1 },
        { nodeId: 2, host: '127.0.0.1', port: port2 },
      ],
      topics: [
        {
          name: 't',
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          errorCode: 0,
          partitions: [{ partition: 0, errorCode: 0, leader, leaderEpoch: epoch, replicas: [1, 2], isr: [me] }],
        },
      ],
    });
    const metadataOf = (me: number, epoch: number) => (key: number) => {
      if (key !== ApiKey.Metadata) return undefined;
      asked.push(me);
      return answer(me, me, epoch);
    };
    port1 = await fakeBroker(metadataOf(1, 3));
    port2 = await fakeBroker(metadataOf(2, 4));
    const c = new Cluster({
      brokers: parseBrokers(`127.0.0.1:${port2},127.0.0.1:${port1}`),
      clientId: 'stale-leader-test',
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
      maxInFlight: 5,
      retries: 0,
      retryBackoffMs: 5,
      emit: () => undefined,
    });
    cleanups.push(() => c.close());
    // the current view first (broker 2 is the first bootstrap address)
    expect(await c.leaderOf('t', 0)).toBe(2);
    expect(asked).toEqual([2]);
    // then only broker 1 is reachable among the open connections, and it answers the old epoch
    await c.brokerConnection(1);
    c.distrust(`127.0.0.1:${port2}`);
    // (distrusted a moment apart: the one distrusted last is asked last)
    await new Promise((r) => setTimeout(r, 5));
    asked = [];
    const stale = await c.topic('t', { force: true }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(asked).toEqual([1]);
    expect(stale).toBeInstanceOf(SluiceError);
    expect(isRetriableError(stale)).toBe(true);
    expect(String((stale as Error).message)).toMatch(/older leader epoch/);
    // broker 1 is now asked last: the next lookup goes to broker 2 again and gets the current leader
    asked = [];
    expect((await c.topic('t', { force: true })).partitions[0]?.leader).toBe(2);
    expect(asked[0]).toBe(2);
  });
});
