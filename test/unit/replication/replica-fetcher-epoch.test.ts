/**
 * The replica fetcher against a tiny in-test leader speaking the native
 * frame format, on a real log. A follower that learns a new leader epoch
 * while its OffsetForLeaderEpoch for the old epoch is in flight must not take
 * the old answer for the new epoch: the chaos suite (seed 7, kill-controller)
 * saw a restarted broker follow a partition at the epoch it read at start-up,
 * get FENCED_LEADER_EPOCH for it just after the controller's new epoch
 * arrived, and then wait "fenced" for a newer state that never came — it
 * stayed out of the ISR for 97 s, until the next leader change.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { decodeRequest, encodeResponse, FrameReader } from '../../../src/protocol/native/frame.js';
import { PartitionReplica } from '../../../src/replication/partition-replica.js';
import { ReplicaFetcher } from '../../../src/replication/replica-fetcher.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { storageFixture } from '../../helpers/storage.js';

interface Any {
  // biome-ignore lint/suspicious/noExplicitAny: dynamic msgpack bodies, asserted field by field
  [k: string]: any;
}

const fx = storageFixture(afterEach);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A leader whose answers the test gives: `answer` may return a promise to hold one. */
async function fakeLeader(answer: (apiKey: number, body: Any) => unknown): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const reader = new FrameReader(
      1 << 20,
      (payload) => {
        const { header, body } = decodeRequest(payload);
        void Promise.resolve(answer(header.apiKey, body as Any)).then((response) => {
          if (!socket.destroyed) socket.write(encodeResponse(header.correlationId, response));
        });
      },
      () => socket.destroy(),
    );
    socket.on('data', (c) => reader.push(c));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

const waitFor = async (what: string, done: () => boolean, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('replica fetcher: a new leader epoch while a request for the old one is in flight', () => {
  it('the old epoch’s FENCED_LEADER_EPOCH answer does not fence the new epoch: it truncates and fetches at the new one', async () => {
    const leaderEpoch = 8;
    const seen: { api: number; epoch: number }[] = [];
    let releaseFenced: () => void = () => undefined;
    const fencedHeld = new Promise<void>((resolve) => {
      releaseFenced = resolve;
    });
    const port = await fakeLeader(async (apiKey, body) => {
      const p = body.topics[0].partitions[0];
      seen.push({ api: apiKey, epoch: p.currentLeaderEpoch });
      if (apiKey === ApiKey.OffsetForLeaderEpoch) {
        if (p.currentLeaderEpoch < leaderEpoch) {
          await fencedHeld;
          const partitions = [
            { partition: 0, errorCode: WireError.FENCED_LEADER_EPOCH, leaderEpoch: -1, endOffset: -1 },
          ];
          return { errorCode: 0, topics: [{ name: 't', partitions }] };
        }
        return {
          errorCode: 0,
          topics: [{ name: 't', partitions: [{ partition: 0, errorCode: 0, leaderEpoch: -1, endOffset: -1 }] }],
        };
      }
      // Fetch: nothing new (a short long-poll)
      await new Promise((r) => setTimeout(r, 20));
      const partitions = [
        { partition: 0, errorCode: 0, highWatermark: 0, logStartOffset: 0, records: Buffer.alloc(0) },
      ];
      return { errorCode: 0, topics: [{ name: 't', partitions }] };
    });

    const logs = await fx.open(fx.dir());
    const replica = new PartitionReplica('t', 0, await logs.getOrCreate('t', 0), 1, () => undefined);
    const fetcher = new ReplicaFetcher({
      brokerId: 1,
      leaderId: 2,
      endpoint: () => ({ nodeId: 2, host: '127.0.0.1', port }),
      config: parseBrokerConfig(new Map()),
      logger: silentLogger,
      onIdle: () => undefined,
    });
    cleanups.push(() => fetcher.close());

    // start-up: the follower read epoch 7 and asks the leader, which is at epoch 8 already
    replica.becomeFollower(2, 7, [2, 1, 3], [2, 3]);
    fetcher.add(replica);
    await waitFor('the epoch-7 OffsetForLeaderEpoch', () => seen.some((s) => s.epoch === 7));
    // the controller's epoch 8 arrives (as ReplicaManager applies it: remove, become follower, add)
    fetcher.remove(replica);
    replica.becomeFollower(2, leaderEpoch, [2, 1, 3], [2, 3]);
    fetcher.add(replica);
    releaseFenced();

    await waitFor('a Fetch at epoch 8', () => seen.some((s) => s.api === ApiKey.Fetch && s.epoch === leaderEpoch));
    // it asked again at the new epoch and never fetched at the old one
    expect(seen.filter((s) => s.api === ApiKey.OffsetForLeaderEpoch).map((s) => s.epoch)).toEqual([7, leaderEpoch]);
    expect(seen.filter((s) => s.api === ApiKey.Fetch && s.epoch !== leaderEpoch)).toEqual([]);
  });
});
