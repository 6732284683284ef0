/**
 * WriteTxnMarkers (Kafka's API 27, KIP-98): a transaction coordinator asks each partition's
 * leader to end a producer's transaction there. Every partition named gets one marker control
 * batch through ReplicaManager.writeTxnMarker, which answers once the ISR has it; each partition
 * answers on its own (NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH,
 * TRANSACTION_COORDINATOR_FENCED, ...), so the coordinator retries only those that failed.
 * Between brokers only: ClusterAction on the cluster (request-authorization.ts), as Kafka's.
 * Served on the native listener (brokers speak it to each other); no Kafka adapter.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { TxnPartitionResult, WriteTxnMarkersResponse } from '../protocol/native/transaction-messages.js';
import { ErrorCode, SluiceError, toWireError } from '../shared/errors.js';
import type { Handler } from './context.js';

export const writeTxnMarkersHandler: Handler<typeof ApiKey.WriteTxnMarkers> = {
  apiKey: ApiKey.WriteTxnMarkers,
  async handle(request, ctx): Promise<WriteTxnMarkersResponse> {
    // every partition's marker starts now, in request order (a partition's markers reach its log in that order)
    const markers = request.markers.map((m) => ({
      producerId: m.producerId,
      topics: m.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map(
          (partition): Promise<TxnPartitionResult> =>
            (async () => {
              if (!ctx.coordinator.partitionState(t.name, partition)) {
                throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${t.name}-${partition}`);
              }
              await ctx.replicas.writeTxnMarker({
                topic: t.name,
                partition,
                producerId: m.producerId,
                producerEpoch: m.producerEpoch,
                committed: m.committed,
                coordinatorEpoch: m.coordinatorEpoch,
              });
              return { partition, errorCode: 0 };
            })().catch((err: unknown) => ({ partition, ...toWireError(err) })),
        ),
      })),
    }));
    return {
      errorCode: 0,
      markers: await Promise.all(
        markers.map(async (m) => ({
          producerId: m.producerId,
          topics: await Promise.all(
            m.topics.map(async (t) => ({ name: t.name, partitions: await Promise.all(t.partitions) })),
          ),
        })),
      ),
    };
  },
};
