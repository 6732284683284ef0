/**
 * A metadata answer as the client may use it. While the cluster changes (a
 * controller paused past its session, a broker rejoining and rebuilding its
 * cache, a broker still waiting to register) an answer can have gaps: no
 * brokers, a topic without partitions, a partition list with holes, fields
 * missing. checkMetadata turns every gap into something typed, so no caller
 * ever dereferences an undefined: an answer without brokers is refused with a
 * retriable error (Kafka's client ignores such answers too), and a topic with
 * incomplete partition metadata gets LEADER_NOT_AVAILABLE (retriable) instead
 * of a half list. Callers then only ever see errorCode 0 with a complete,
 * sorted partition list 0..n-1, or a non-zero errorCode.
 */
import { WireError } from '../protocol/error-codes.js';
import type { BrokerInfo, MetadataResponse, PartitionMetadata, TopicMetadata } from '../protocol/native/messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { checkTopLevel, markRetriable } from './errors.js';

type Loose = Record<string, unknown>;

const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= -1;
const ids = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)) : []);

/** A retriable error for an answer the client cannot use (it asks again, elsewhere when it can). */
export function metadataGap(message: string): SluiceError {
  return markRetriable(new SluiceError(ErrorCode.NotLeader, `${message}: LEADER_NOT_AVAILABLE (5)`));
}

function brokerOf(b: unknown): BrokerInfo | undefined {
  if (!isObject(b) || !Number.isInteger(b.nodeId) || typeof b.host !== 'string' || !Number.isInteger(b.port)) {
    return undefined;
  }
  const broker: BrokerInfo = { nodeId: b.nodeId as number, host: b.host, port: b.port as number };
  if (Number.isInteger(b.kafkaPort)) broker.kafkaPort = b.kafkaPort as number;
  return broker;
}

function partitionOf(p: unknown): PartitionMetadata | undefined {
  if (!isObject(p) || !Number.isInteger(p.partition) || (p.partition as number) < 0 || !isId(p.leader)) {
    return undefined;
  }
  const out: PartitionMetadata = {
    partition: p.partition as number,
    errorCode: Number.isInteger(p.errorCode) ? (p.errorCode as number) : 0,
    leader: p.leader,
    leaderEpoch: Number.isInteger(p.leaderEpoch) ? (p.leaderEpoch as number) : -1,
    replicas: ids(p.replicas),
    isr: ids(p.isr),
  };
  if (typeof p.errorMessage === 'string') out.errorMessage = p.errorMessage;
  return out;
}

function topicOf(t: Loose & { name: string }): TopicMetadata {
  const errorCode = Number.isInteger(t.errorCode) ? (t.errorCode as number) : 0;
  const base = { name: t.name, ...(typeof t.errorMessage === 'string' ? { errorMessage: t.errorMessage } : {}) };
  if (errorCode !== 0) return { ...base, errorCode, partitions: [] };
  const listed = Array.isArray(t.partitions) ? t.partitions : [];
  const partitions = listed
    .map(partitionOf)
    .filter((p): p is PartitionMetadata => p !== undefined)
    .sort((a, b) => a.partition - b.partition);
  // the broker lists every partition 0..n-1: anything else is a cache still filling (or a broken answer)
  const complete =
    partitions.length > 0 && partitions.length === listed.length && partitions.every((p, i) => p.partition === i);
  if (!complete) {
    return {
      name: t.name,
      errorCode: WireError.LEADER_NOT_AVAILABLE,
      errorMessage: `incomplete partition metadata (${partitions.length} usable of ${listed.length} listed)`,
      partitions: [],
    };
  }
  return { ...base, errorCode: 0, ...(typeof t.topicId === 'string' ? { topicId: t.topicId } : {}), partitions };
}

/**
 * The answer with every gap typed (see the file comment); throws a retriable
 * error when it names no broker, and the answer's own top-level error.
 */
export function checkMetadata(res: unknown, from: string): MetadataResponse {
  if (!isObject(res)) throw metadataGap(`metadata from ${from}: not an answer`);
  checkTopLevel(res as { errorCode?: number; errorMessage?: string }, 'metadata');
  const brokers = (Array.isArray(res.brokers) ? res.brokers : [])
    .map(brokerOf)
    .filter((b): b is BrokerInfo => b !== undefined);
  if (brokers.length === 0) {
    throw markRetriable(
      new SluiceError(
        ErrorCode.BrokerUnreachable,
        `metadata from ${from} names no broker (that broker is not part of the cluster right now)`,
      ),
    );
  }
  const topics = (Array.isArray(res.topics) ? res.topics : [])
    .filter((t): t is Loose & { name: string } => isObject(t) && typeof t.name === 'string')
    .map(topicOf);
  return {
    errorCode: 0,
    brokers,
    controllerId: isId(res.controllerId) ? res.controllerId : -1,
    ...(typeof res.clusterId === 'string' ? { clusterId: res.clusterId } : {}),
    topics,
  };
}
