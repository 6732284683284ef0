/**
 * What OffsetCommit and TxnOffsetCommit share about topics: besides Read on the group (checked for
 * the whole request, request-authorization.ts), a commit needs Read on each topic, and as in Kafka a
 * topic without it is answered per partition (TOPIC_AUTHORIZATION_FAILED) while the others are
 * committed; a partition of a topic the cluster does not know, or past its count, is answered per
 * partition by the group coordinator (the `exists` check handed to it).
 */
import type { PartitionExists } from '../groups/group-coordinator.js';
import { ResourceType } from '../security/acl.js';
import { WireError } from '../shared/errors.js';
import { AclOperation, allowed } from './authorize.js';
import type { ClientInfo, HandlerContext } from './context.js';

interface PartitionError {
  partition: number;
  errorCode: number;
  errorMessage?: string;
}

/** A commit's answer: per topic and partition (errorCode at the top for the request as a whole). */
interface CommitAnswer {
  errorCode: number;
  topics: { name: string; partitions: PartitionError[] }[];
}

/**
 * `commit` of the topics of `request` the client may Read, with the coordinator's check that a
 * partition exists; the others' partitions answered TOPIC_AUTHORIZATION_FAILED after the committed
 * ones. When no topic may be read nothing is committed.
 */
export async function commitReadableTopics<
  Req extends { topics: readonly { name: string; partitions: readonly { partition: number }[] }[] },
  Answer extends CommitAnswer,
>(
  request: Req,
  ctx: HandlerContext,
  client: ClientInfo,
  commit: (readable: Req, exists: PartitionExists) => Promise<Answer>,
): Promise<Answer | CommitAnswer> {
  const denied = request.topics.filter((t) => !allowed(ctx, client, AclOperation.Read, ResourceType.Topic, t.name));
  const refused = denied.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partition: p.partition,
      errorCode: WireError.TOPIC_AUTHORIZATION_FAILED,
      errorMessage: `${client.principal} is not authorized to Read topic ${t.name}`,
    })),
  }));
  if (denied.length > 0 && denied.length === request.topics.length) return { errorCode: 0, topics: refused };
  const readable =
    denied.length === 0 ? request : { ...request, topics: request.topics.filter((t) => !denied.includes(t)) };
  const committed = await commit(readable, (topic, partition) => {
    const spec = ctx.coordinator.topic(topic);
    return spec !== undefined && partition >= 0 && partition < spec.partitions;
  });
  // a commit refused as a whole (no topics) keeps its error
  return denied.length === 0 || !committed.topics
    ? committed
    : { ...committed, topics: [...committed.topics, ...refused] };
}
