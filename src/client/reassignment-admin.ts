/**
 * Partition reassignment from the client (Kafka's Admin.alterPartitionReassignments
 * and listPartitionReassignments): both requests go to the controller that
 * Metadata names; NOT_CONTROLLER (the controller moved) refreshes the
 * metadata and tries again.
 */
import { WireError } from '../protocol/error-codes.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { AlterPartitionReassignmentsRequest } from '../protocol/native/reassignment-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, invalidArgument, wireError } from './errors.js';

const reassignTimeoutMs = 30_000;

/** One partition to move: `replicas` in preference order (the first is the preferred leader), or null to cancel. */
export interface PartitionReassignmentSpec {
  topic: string;
  partition: number;
  replicas: number[] | null;
}

export interface ReassignPartitionsOptions {
  partitions: PartitionReassignmentSpec[];
  /** Bytes/s the added replicas may fetch at until the reassignment completes (per broker); absent: unthrottled. */
  throttleBytesPerSec?: number;
}

/** A partition under reassignment: its full replica set now, and the replicas being added and removed. */
export interface PartitionReassignmentStatus {
  topic: string;
  partition: number;
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

async function atController<T>(cluster: Cluster, run: () => Promise<T>): Promise<T> {
  return cluster.retry(async (attempt) => {
    // the controller may have moved (NOT_CONTROLLER): ask the cluster again who it is
    if (attempt > 0) await cluster.refreshMetadata([]);
    return run();
  });
}

/**
 * Starts (or, with replicas null, cancels) the reassignment of each partition
 * named. Resolves once the controller has recorded them all; they complete in
 * the background (listPartitionReassignments shows what is left). A partition
 * the controller refuses makes it throw that partition's error (the others
 * stand), naming every refused partition.
 */
export async function reassignPartitions(cluster: Cluster, options: ReassignPartitionsOptions): Promise<void> {
  const byTopic = new Map<string, AlterPartitionReassignmentsRequest['topics'][number]['partitions']>();
  for (const p of options?.partitions ?? []) {
    if (typeof p.topic !== 'string' || p.topic.length === 0) throw invalidArgument('a topic name must be given');
    if (!Number.isInteger(p.partition) || p.partition < 0) throw invalidArgument('partition must be an integer ≥ 0');
    if (p.replicas !== null && (!Array.isArray(p.replicas) || !p.replicas.every((r) => Number.isInteger(r)))) {
      throw invalidArgument('replicas must be a list of broker ids, or null to cancel');
    }
    const list = byTopic.get(p.topic) ?? [];
    byTopic.set(p.topic, list);
    list.push({ partition: p.partition, replicas: p.replicas === null ? null : [...p.replicas] });
  }
  if (byTopic.size === 0) throw invalidArgument('no partition to reassign');
  const throttle = options.throttleBytesPerSec;
  if (throttle !== undefined && (!Number.isSafeInteger(throttle) || throttle <= 0)) {
    throw invalidArgument('throttleBytesPerSec must be a positive integer');
  }
  const body: AlterPartitionReassignmentsRequest = {
    timeoutMs: reassignTimeoutMs,
    topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    ...(throttle !== undefined ? { throttleBytesPerSec: throttle } : {}),
  };
  const res = await atController(cluster, async () => {
    const conn = await cluster.controllerConnection();
    const answer = await conn.request(ApiKey.AlterPartitionReassignments, body, {
      timeoutMs: reassignTimeoutMs + 5_000,
    });
    checkTopLevel(answer, 'reassign partitions');
    return answer;
  });
  const failed: { name: string; code: number; message: string | undefined }[] = [];
  for (const t of res.topics ?? []) {
    for (const p of t.partitions) {
      if (p.errorCode !== WireError.NONE) {
        failed.push({ name: `${t.name}-${p.partition}`, code: p.errorCode, message: p.errorMessage });
      }
    }
  }
  const first = failed[0];
  if (first) {
    const err = wireError(first.code, `reassign ${first.name}`, first.message);
    if (failed.length === 1) throw err;
    const others = failed
      .slice(1)
      .map((f) => `${f.name}: ${wireError(f.code, f.name, f.message).message}`)
      .join('; ');
    throw new SluiceError(err.code, `${err.message}; also refused: ${others}`);
  }
}

/** Every partition under reassignment (or those of `topics` only), sorted by topic and partition. */
export async function listPartitionReassignments(
  cluster: Cluster,
  topics?: { topic: string; partitions: number[] }[],
): Promise<PartitionReassignmentStatus[]> {
  const res = await atController(cluster, async () => {
    const conn = await cluster.controllerConnection();
    const answer = await conn.request(ApiKey.ListPartitionReassignments, {
      timeoutMs: reassignTimeoutMs,
      topics: topics ? topics.map((t) => ({ name: t.topic, partitions: t.partitions })) : null,
    });
    checkTopLevel(answer, 'list partition reassignments');
    return answer;
  });
  if (!res.topics) throw new SluiceError(ErrorCode.BrokerError, 'list partition reassignments: no answer');
  return res.topics
    .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, ...p })))
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}
