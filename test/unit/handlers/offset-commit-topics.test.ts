/**
 * commitReadableTopics, shared by OffsetCommit and TxnOffsetCommit: topics the client may not Read
 * answered TOPIC_AUTHORIZATION_FAILED per partition after the committed ones and kept from the
 * commit; nothing committed when no topic may be read; the coordinator handed a check of which
 * partitions exist; a commit refused as a whole kept as it is. The authorizer is the real one on
 * a list of ACLs; the commit is a recorder.
 */
import { describe, expect, it } from 'vitest';
import { AclAuthorizer } from '../../../src/handlers/authorize.js';
import type { ClientInfo, HandlerContext } from '../../../src/handlers/context.js';
import { commitReadableTopics } from '../../../src/handlers/offset-commit-topics.js';
import { type AclBinding, AclOperation, AclPermission, PatternType, ResourceType } from '../../../src/security/acl.js';
import { WireError } from '../../../src/shared/errors.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { testClient } from '../../helpers/replica-manager.js';

const client: ClientInfo = { ...testClient, principal: 'User:alice' };

function readTopic(name: string): AclBinding {
  return {
    pattern: { resourceType: ResourceType.Topic, name, patternType: PatternType.Literal },
    entry: {
      principal: 'User:alice',
      host: '*',
      operation: AclOperation.Read as never,
      permission: AclPermission.Allow,
    },
  } as AclBinding;
}

/** Topic `t<n>` has n partitions. */
function context(acls: AclBinding[]): HandlerContext {
  return {
    authorizer: new AclAuthorizer(() => acls, AclAuthorizer.options('', false), silentLogger),
    coordinator: {
      topic: (name: string) => (name.startsWith('t') ? { partitions: Number(name.slice(1)) } : undefined),
    },
  } as unknown as HandlerContext;
}

interface Req {
  groupId: string;
  topics: { name: string; partitions: { partition: number; offset: number }[] }[];
}

const request: Req = {
  groupId: 'g',
  topics: [
    { name: 't2', partitions: [{ partition: 0, offset: 1 }] },
    { name: 't1', partitions: [{ partition: 0, offset: 2 }] },
  ],
};

/** A commit that records what reaches it and answers each partition by `exists`. */
function recorder() {
  const seen: Req[] = [];
  const commit = async (req: Req, exists: (topic: string, partition: number) => boolean) => {
    seen.push(req);
    return {
      errorCode: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          errorCode: exists(t.name, p.partition) ? 0 : WireError.UNKNOWN_TOPIC_OR_PARTITION,
        })),
      })),
    };
  };
  return { seen, commit };
}

describe('commitReadableTopics', () => {
  it('commits every topic when all may be read', async () => {
    const { seen, commit } = recorder();
    const answer = await commitReadableTopics(request, context([readTopic('t2'), readTopic('t1')]), client, commit);
    expect(seen).toEqual([request]);
    expect(answer.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)])).toEqual([
      ['t2', [0]],
      ['t1', [0]],
    ]);
  });

  it('keeps a topic without Read from the commit and answers its partitions after the committed ones', async () => {
    const { seen, commit } = recorder();
    const answer = await commitReadableTopics(request, context([readTopic('t1')]), client, commit);
    expect(seen.map((r) => r.topics.map((t) => t.name))).toEqual([['t1']]);
    expect(seen[0]?.groupId).toBe('g');
    expect(answer.errorCode).toBe(0);
    expect(answer.topics).toEqual([
      { name: 't1', partitions: [{ partition: 0, errorCode: 0 }] },
      {
        name: 't2',
        partitions: [
          {
            partition: 0,
            errorCode: WireError.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: 'User:alice is not authorized to Read topic t2',
          },
        ],
      },
    ]);
  });

  it('commits nothing when no topic may be read', async () => {
    const { seen, commit } = recorder();
    const answer = await commitReadableTopics(request, context([]), client, commit);
    expect(seen).toEqual([]);
    expect(answer.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      WireError.TOPIC_AUTHORIZATION_FAILED,
      WireError.TOPIC_AUTHORIZATION_FAILED,
    ]);
  });

  it("hands the coordinator a check of the cluster's topics and partition counts", async () => {
    const { commit } = recorder();
    const odd: Req = {
      groupId: 'g',
      topics: [
        { name: 't2', partitions: [1, 2, -1].map((partition) => ({ partition, offset: 0 })) },
        { name: 'nope', partitions: [{ partition: 0, offset: 0 }] },
      ],
    };
    const answer = await commitReadableTopics(odd, context([readTopic('t2'), readTopic('nope')]), client, commit);
    expect(answer.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      [0, WireError.UNKNOWN_TOPIC_OR_PARTITION, WireError.UNKNOWN_TOPIC_OR_PARTITION],
      [WireError.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
  });
});
