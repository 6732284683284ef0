/**
 * AlterPartitionReassignments (Kafka's API 45) and ListPartitionReassignments
 * (46), KIP-455. The active controller runs them (the coordinator's
 * reassignment steps, coordination/zookeeper/reassignment.ts); any other
 * broker answers NOT_CONTROLLER for the whole request, as Kafka's brokers do,
 * and clients send them to the controller Metadata names.
 *
 * A standalone broker has nothing to move: a reassignment is refused per
 * partition with INVALID_REPLICA_ASSIGNMENT (saying so), a cancel with
 * NO_REASSIGNMENT_IN_PROGRESS, and the list is empty.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  AlterPartitionReassignmentsResponse,
  ListPartitionReassignmentsResponse,
} from '../protocol/native/reassignment-messages.js';
import { ErrorCode, SluiceError, WireError } from '../shared/errors.js';
import { reassignmentPartitionsPerRequestMax } from '../shared/limits.js';
import { bad, type Handler, type HandlerContext } from './context.js';
import { orWireError, perPartition } from './per-partition.js';

export const alterPartitionReassignmentsHandler: Handler<typeof ApiKey.AlterPartitionReassignments> = {
  apiKey: ApiKey.AlterPartitionReassignments,
  async handle(request, ctx): Promise<AlterPartitionReassignmentsResponse> {
    const count = request.topics.reduce((n, t) => n + t.partitions.length, 0);
    if (count > reassignmentPartitionsPerRequestMax) {
      throw bad(`at most ${reassignmentPartitionsPerRequestMax} partitions per reassignment request`);
    }
    const throttle = request.throttleBytesPerSec ?? 0;
    if (throttle < 0) throw bad(`throttleBytesPerSec must not be negative: ${throttle}`);
    const { coordinator } = ctx;
    if (coordinator.alterPartitionReassignment && !isController(ctx)) throw notController(ctx);
    const topics = await perPartition(request, (topic, { partition, replicas }) =>
      orWireError(
        async (): Promise<AlterPartitionReassignmentsResponse['topics'][number]['partitions'][number]> => {
          if (!coordinator.alterPartitionReassignment) {
            checkKnown(ctx, topic, partition);
            if (replicas === null) {
              throw new SluiceError(
                ErrorCode.NoReassignmentInProgress,
                `no reassignment of ${topic}-${partition} is in progress`,
              );
            }
            throw new SluiceError(
              ErrorCode.InvalidReplicaAssignment,
              'a standalone broker (no zookeeper.connect) has no other broker to move replicas to',
            );
          }
          await coordinator.alterPartitionReassignment(topic, partition, replicas, throttle);
          return { partition, errorCode: WireError.NONE };
        },
        (error) => ({ partition, ...error }),
      ),
    );
    return { errorCode: WireError.NONE, topics };
  },
};

export const listPartitionReassignmentsHandler: Handler<typeof ApiKey.ListPartitionReassignments> = {
  apiKey: ApiKey.ListPartitionReassignments,
  async handle(request, ctx): Promise<ListPartitionReassignmentsResponse> {
    const { coordinator } = ctx;
    if (!coordinator.listPartitionReassignments) return { errorCode: WireError.NONE, topics: [] };
    if (!isController(ctx)) throw notController(ctx);
    const wanted = request.topics ? new Map(request.topics.map((t) => [t.name, new Set(t.partitions)])) : undefined;
    const topics: ListPartitionReassignmentsResponse['topics'] = [];
    for (const r of await coordinator.listPartitionReassignments()) {
      if (wanted && !wanted.get(r.topic)?.has(r.partition)) continue;
      let entry = topics.find((t) => t.name === r.topic);
      if (!entry) {
        entry = { name: r.topic, partitions: [] };
        topics.push(entry);
      }
      entry.partitions.push({
        partition: r.partition,
        replicas: r.replicas,
        addingReplicas: r.addingReplicas,
        removingReplicas: r.removingReplicas,
      });
    }
    return { errorCode: WireError.NONE, topics };
  },
};

function isController(ctx: HandlerContext): boolean {
  return ctx.coordinator.controllerId() === ctx.coordinator.brokerId;
}

function notController(ctx: HandlerContext): SluiceError {
  return new SluiceError(
    ErrorCode.NotController,
    `broker ${ctx.coordinator.brokerId} is not the controller (the controller is broker ${ctx.coordinator.controllerId()})`,
  );
}

function checkKnown(ctx: HandlerContext, topic: string, partition: number): void {
  if (!ctx.coordinator.partitionState(topic, partition)) {
    throw new SluiceError(ErrorCode.UnknownPartition, `unknown topic or partition ${topic}-${partition}`);
  }
}
