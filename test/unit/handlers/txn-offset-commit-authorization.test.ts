/**
 * TxnOffsetCommit's authorization, in Kafka's order: Write on the
 * transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then Read on the
 * group (GROUP_AUTHORIZATION_FAILED) for the whole request, then Read on each
 * topic (TOPIC_AUTHORIZATION_FAILED on its partitions; the others go to the
 * group coordinator). The authorizer is the real one on a list of ACLs; the
 * group coordinator is replaced by a recorder of what reaches it.
 */
import { describe, expect, it } from 'vitest';
import { AclAuthorizer } from '../../../src/handlers/authorize.js';
import type { ClientInfo, HandlerContext } from '../../../src/handlers/context.js';
import { handlers } from '../../../src/handlers/index.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import type { TxnOffsetCommitRequest } from '../../../src/protocol/native/transaction-messages.js';
import { type AclBinding, AclOperation, AclPermission, PatternType, ResourceType } from '../../../src/security/acl.js';
import { ErrorCode, isSluiceError, WireError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';

const client: ClientInfo = {
  clientId: 't',
  clientHost: '127.0.0.1',
  principal: 'User:alice',
  connectionId: 1,
  onClose: () => {},
};

function allow(resourceType: ResourceType, name: string, operation: AclOperation): AclBinding {
  return {
    pattern: { resourceType, name, patternType: PatternType.Literal },
    entry: { principal: 'User:alice', host: '*', operation: operation as never, permission: AclPermission.Allow },
  } as AclBinding;
}

const request: TxnOffsetCommitRequest = {
  transactionalId: 'tx',
  groupId: 'g',
  producerId: 7,
  producerEpoch: 0,
  topics: [
    { name: 'mine', partitions: [{ partition: 0, offset: 5 }] },
    { name: 'theirs', partitions: [{ partition: 0, offset: 6 }] },
  ],
};

function context(acls: AclBinding[], seen: TxnOffsetCommitRequest[]): HandlerContext {
  return {
    authorizer: new AclAuthorizer(() => acls, AclAuthorizer.options('', false), silentLogger),
    coordinator: { topic: () => ({ partitions: 1 }) },
    groups: {
      txnCommit: async (req: TxnOffsetCommitRequest) => {
        seen.push(req);
        return {
          errorCode: 0,
          topics: req.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0 })),
          })),
        };
      },
    },
  } as unknown as HandlerContext;
}

async function refusal(acls: AclBinding[]): Promise<ErrorCode | undefined> {
  try {
    await handlers[ApiKey.TxnOffsetCommit].handle(request, context(acls, []), client);
    return undefined;
  } catch (err) {
    if (!isSluiceError(err)) throw err;
    return err.code;
  }
}

describe('TxnOffsetCommit authorization', () => {
  it('needs Write on the transactional id, then Read on the group', async () => {
    const txnId = allow(ResourceType.TransactionalId, 'tx', AclOperation.Write);
    const group = allow(ResourceType.Group, 'g', AclOperation.Read);
    expect(await refusal([group])).toBe(ErrorCode.TransactionalIdAuthorizationFailed);
    expect(await refusal([allow(ResourceType.TransactionalId, 'tx', AclOperation.Read), group])).toBe(
      ErrorCode.TransactionalIdAuthorizationFailed,
    );
    expect(await refusal([txnId])).toBe(ErrorCode.GroupAuthorizationFailed);
  });

  it('answers a topic without Read per partition and commits the others', async () => {
    const acls = [
      allow(ResourceType.TransactionalId, 'tx', AclOperation.Write),
      allow(ResourceType.Group, 'g', AclOperation.Read),
      allow(ResourceType.Topic, 'mine', AclOperation.Read),
    ];
    const seen: TxnOffsetCommitRequest[] = [];
    const answer = await handlers[ApiKey.TxnOffsetCommit].handle(request, context(acls, seen), client);
    expect(seen.map((r) => r.topics.map((t) => t.name))).toEqual([['mine']]);
    expect(answer).toMatchObject({
      errorCode: 0,
      topics: [
        { name: 'mine', partitions: [{ partition: 0, errorCode: 0 }] },
        { name: 'theirs', partitions: [{ partition: 0, errorCode: WireError.TOPIC_AUTHORIZATION_FAILED }] },
      ],
    });
    // no topic readable: the coordinator is not asked at all
    const none: TxnOffsetCommitRequest[] = [];
    await handlers[ApiKey.TxnOffsetCommit].handle(request, context(acls.slice(0, 2), none), client);
    expect(none).toEqual([]);
  });
});
