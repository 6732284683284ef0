/**
 * TxnOffsetCommit (key 28, KIP-98 / KIP-447): a transactional producer
 * commits a consumer group's offsets inside its transaction; the group's
 * coordinator writes them and keeps them pending until the transaction's
 * marker (src/groups). Authorization as Kafka's: Write on the transactional
 * id and Read on the group for the whole request (request-authorization.ts),
 * Read on each topic as OffsetCommit (offset-commit-topics.ts).
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import { bad, type Handler } from './context.js';
import { commitReadableTopics } from './offset-commit-topics.js';

export const txnOffsetCommitHandler: Handler<typeof ApiKey.TxnOffsetCommit> = {
  apiKey: ApiKey.TxnOffsetCommit,
  async handle(request, ctx, client) {
    if (request.producerId < 0 || request.producerEpoch < 0) {
      throw bad(`producer id ${request.producerId} and epoch ${request.producerEpoch} must not be negative`);
    }
    for (const t of request.topics) {
      for (const p of t.partitions) if (p.offset < 0) throw bad(`offset ${p.offset} is negative`);
    }
    return commitReadableTopics(request, ctx, client, (readable, exists) => ctx.groups.txnCommit(readable, exists));
  },
};
