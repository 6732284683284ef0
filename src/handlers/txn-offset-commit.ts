/**
 * TxnOffsetCommit (key 28, KIP-98 / KIP-447): a transactional producer
 * commits a consumer group's offsets inside its transaction; the group's
 * coordinator writes them and keeps them pending until the transaction's
 * marker (src/groups). Authorization as Kafka's: Write on the transactional
 * id and Read on the group for the whole request (request-authorization.ts),
 * Read on each topic here, answered per partition.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import { ResourceType } from '../security/acl.js';
import { WireError } from '../shared/errors.js';
import { AclOperation, allowed } from './authorize.js';
import { bad, type Handler } from './context.js';

export const txnOffsetCommitHandler: Handler<typeof ApiKey.TxnOffsetCommit> = {
  apiKey: ApiKey.TxnOffsetCommit,
  async handle(request, ctx, client) {
    if (request.producerId < 0 || request.producerEpoch < 0) {
      throw bad(`producer id ${request.producerId} and epoch ${request.producerEpoch} must not be negative`);
    }
    for (const t of request.topics) {
      for (const p of t.partitions) if (p.offset < 0) throw bad(`offset ${p.offset} is negative`);
    }
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
    const rest =
      denied.length === 0 ? request : { ...request, topics: request.topics.filter((t) => !denied.includes(t)) };
    const committed = await ctx.groups.txnCommit(rest, (topic, partition) => {
      const spec = ctx.coordinator.topic(topic);
      return spec !== undefined && partition >= 0 && partition < spec.partitions;
    });
    return denied.length === 0 ? committed : { ...committed, topics: [...committed.topics, ...refused] };
  },
};
