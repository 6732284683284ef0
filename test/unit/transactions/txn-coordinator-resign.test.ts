/**
 * The transaction coordinator when it stops leading an id's partition while
 * a request for that id waits for the completion of the previous
 * transaction: the request is answered NOT_COORDINATOR (the client finds the
 * next coordinator), not INVALID_PRODUCER_ID_MAPPING, which would fail the
 * producer's transaction. Seen in the chaos suite (seeds 7 and 42): each such
 * error came right after "transaction completion left to the next coordinator".
 *
 * The state store runs on a stand-in for the replica manager that takes every
 * write (the store's replay and write paths need nothing else here); the
 * marker channel's write is held until the test has moved the partition away.
 */
import { describe, expect, it } from 'vitest';
import type { ReplicaManager } from '../../../src/replication/replica-manager.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import type { TopicManager } from '../../../src/topics/topic-manager.js';
import { MarkersCancelled } from '../../../src/transactions/marker-channel.js';
import { TransactionCoordinator } from '../../../src/transactions/txn-coordinator.js';
import { TxnStateStore } from '../../../src/transactions/txn-state-store.js';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('transaction coordinator losing its partition', () => {
  it('a request waiting for the completion is answered NOT_COORDINATOR once the partition moved', async () => {
    const replicas = { replica: () => undefined, appendAsLeader: async () => undefined } as unknown as ReplicaManager;
    const store = new TxnStateStore({
      replicas,
      topics: {} as TopicManager,
      partitions: 50,
      replicationFactor: 1,
      minIsr: 1,
      liveBrokers: () => 1,
    });
    let releaseMarkers: () => void = () => undefined;
    const markersHeld = new Promise<void>((resolve) => {
      releaseMarkers = resolve;
    });
    const coordinator = new TransactionCoordinator({
      store,
      markers: {
        write: async (_markers, valid) => {
          await markersHeld;
          if (!valid()) throw new MarkersCancelled('moved');
        },
        close: () => undefined,
      },
      allocateProducerId: async () => 1000,
      maxTimeoutMs: 60_000,
      idExpirationMs: 3_600_000,
      abortIntervalMs: 60_000,
      removeIntervalMs: 3_600_000,
    });
    const id = 'tx-resign';
    const partition = store.partitionFor(id);
    coordinator.onLeadership(partition, true);
    await store.ready(id, true);
    const { producerId, producerEpoch } = await coordinator.initProducerId(id, 30_000);
    await coordinator.addPartitions(id, producerId, producerEpoch, [{ topic: 'out', partition: 0 }]);
    // EndTxn is answered once PrepareCommit is written; the markers are held
    await coordinator.endTxn(id, producerId, producerEpoch, true);
    // the producer's next transaction waits for that completion ...
    const next = coordinator.addPartitions(id, producerId, producerEpoch, [{ topic: 'out', partition: 1 }]);
    // ... while the partition moves to another broker
    coordinator.onLeadership(partition, false);
    releaseMarkers();
    expect(await codeOf(next)).toBe(ErrorCode.NotCoordinator);
    coordinator.close();
  });
});
