import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../../src/client/connection.js';
import type { PartitionState, TopicSpec } from '../../../src/coordination/coordinator.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { WireError } from '../../../src/shared/errors.js';
import {
  MarkerChannel,
  type MarkerConnectionOptions,
  MarkersCancelled,
  type TxnMarkers,
} from '../../../src/transactions/marker-channel.js';
import { type AnyBody, type FakeNativeBroker, fakeNativeBroker } from '../../helpers/fake-native-broker.js';

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

/** A cluster view of one broker (id 1) leading every partition of the topics given. */
function view(broker: FakeNativeBroker, topics: Map<string, number>) {
  return {
    brokers: () => [{ nodeId: 1, host: '127.0.0.1', port: broker.port }],
    topic: (name: string): TopicSpec | undefined => {
      const partitions = topics.get(name);
      return partitions === undefined ? undefined : { name, partitions, replicationFactor: 1, configs: {} };
    },
    partitionState: (topic: string, partition: number): PartitionState | undefined =>
      topics.has(topic) ? { topic, partition, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1] } : undefined,
  };
}

/** Plain connections, as a broker without inter-broker TLS or SASL opens them. */
const connect = (options: MarkerConnectionOptions) => new Connection(options);

const markers: TxnMarkers = {
  producerId: 42,
  producerEpoch: 3,
  committed: true,
  coordinatorEpoch: 5,
  partitions: [
    { topic: 'a', partition: 0 },
    { topic: 'a', partition: 1 },
  ],
};

function answer(body: AnyBody, code: (topic: string, partition: number) => number) {
  return {
    errorCode: 0,
    markers: body.markers.map((m: AnyBody) => ({
      producerId: m.producerId,
      topics: m.topics.map((t: AnyBody) => ({
        name: t.name,
        partitions: t.partitions.map((partition: number) => ({ partition, errorCode: code(t.name, partition) })),
      })),
    })),
  };
}

describe('marker channel', () => {
  it('retries a refused request (UNSUPPORTED_VERSION) and a refused partition until every marker is written', async () => {
    const requests: AnyBody[] = [];
    const broker = await fakeNativeBroker((apiKey, body) => {
      if (apiKey !== ApiKey.WriteTxnMarkers) return { errorCode: WireError.UNSUPPORTED_VERSION };
      requests.push(body);
      if (requests.length === 1) return { errorCode: WireError.UNSUPPORTED_VERSION, errorMessage: 'not served yet' };
      // the second attempt: partition 1 is not led there yet; the third: both written
      return answer(body, (_t, p) => (requests.length === 2 && p === 1 ? WireError.NOT_LEADER_OR_FOLLOWER : 0));
    });
    opened.push(broker);
    const channel = new MarkerChannel({ brokerId: 9, coordinator: view(broker, new Map([['a', 2]])), connect });
    opened.push(channel);
    await channel.write(markers, () => true);
    expect(requests.length).toBe(3);
    expect(requests[0]?.markers[0]).toMatchObject({
      producerId: 42,
      producerEpoch: 3,
      committed: true,
      coordinatorEpoch: 5,
    });
    expect(requests[0]?.markers[0].topics).toEqual([{ name: 'a', partitions: [0, 1] }]);
    // only the partition still without its marker is sent again
    expect(requests[2]?.markers[0].topics).toEqual([{ name: 'a', partitions: [1] }]);
  });

  it('counts a deleted topic as done, and stops on TRANSACTION_COORDINATOR_FENCED or when no longer valid', async () => {
    const topics = new Map([['a', 2]]);
    let fenced = false;
    const broker = await fakeNativeBroker((_apiKey, body) => {
      if (fenced) return answer(body, () => WireError.TRANSACTION_COORDINATOR_FENCED);
      // the topic is deleted while its markers are refused
      topics.delete('a');
      return answer(body, () => WireError.NOT_LEADER_OR_FOLLOWER);
    });
    opened.push(broker);
    const channel = new MarkerChannel({ brokerId: 9, coordinator: view(broker, topics), connect });
    opened.push(channel);
    await channel.write(markers, () => true);

    topics.set('a', 2);
    fenced = true;
    await expect(channel.write(markers, () => true)).rejects.toBeInstanceOf(MarkersCancelled);
    await expect(channel.write(markers, () => false)).rejects.toBeInstanceOf(MarkersCancelled);
  });
});
