import { describe, expect, it } from 'vitest';
import { orWireError, perPartition } from '../../../src/handlers/per-partition.js';
import { WireError } from '../../../src/protocol/error-codes.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { parseRequest } from '../../../src/protocol/native/request-check.js';
import { ErrorCode, SluiceError } from '../../../src/shared/errors.js';

describe('perPartition and orWireError', () => {
  const body = {
    topics: [
      { name: 'b', partitions: [{ partition: 2 }, { partition: 0 }] },
      { name: 'a', partitions: [{ partition: 1 }] },
    ],
  };

  it('answers every partition in request order, grouped by topic', async () => {
    const seen: string[] = [];
    const topics = await perPartition(body, async (topic, p) => {
      const { partition } = p;
      seen.push(`${topic}-${partition}`);
      return { partition, errorCode: 0 };
    });
    expect(seen).toEqual(['b-2', 'b-0', 'a-1']);
    expect(topics).toEqual([
      {
        name: 'b',
        partitions: [
          { partition: 2, errorCode: 0 },
          { partition: 0, errorCode: 0 },
        ],
      },
      { name: 'a', partitions: [{ partition: 1, errorCode: 0 }] },
    ]);
  });

  it("puts a partition's own failure on that partition, with the wire code and message in place", async () => {
    const topics = await perPartition(body, async (topic, p) => {
      const { partition } = p;
      return orWireError(
        async () => {
          if (partition === 0) throw new SluiceError(ErrorCode.NotLeader, `${topic}-0 is led elsewhere`);
          return { partition, errorCode: 0, offset: 7 };
        },
        (error) => ({ partition, ...error, offset: -1 }),
      );
    });
    const failed = topics[0]?.partitions[1];
    expect(failed).toEqual({
      partition: 0,
      errorCode: WireError.NOT_LEADER_OR_FOLLOWER,
      errorMessage: 'b-0 is led elsewhere',
      offset: -1,
    });
    expect(Object.keys(failed ?? {})).toEqual(['partition', 'errorCode', 'errorMessage', 'offset']);
    expect(topics[0]?.partitions[0]).toEqual({ partition: 2, errorCode: 0, offset: 7 });
  });

  it('fails the whole request on what answer throws outside orWireError', async () => {
    await expect(
      perPartition({ topics: [{ name: 'a', partitions: [{ partition: 0 }] }] }, async () => {
        throw new SluiceError(ErrorCode.InvalidRequest, 'partition must be an integer');
      }),
    ).rejects.toThrow('partition must be an integer');
  });

  // a handler's perPartition only ever sees a parsed request: the one check in front of it refuses these
  it('never sees a malformed request: parsing refuses it first, naming the field', () => {
    expect(() => parseRequest(ApiKey.ListOffsets, 0, { topics: [{ name: 'a', partitions: [{}] }] })).toThrow(
      'topics[0].partitions[0].partition must be an int32',
    );
    expect(() => parseRequest(ApiKey.ListOffsets, 0, { topics: 'x' })).toThrow('topics must be a list of at most');
  });

  it('gives UNKNOWN_SERVER_ERROR for an error that is not a SluiceError', async () => {
    const answer = await orWireError(
      async () => {
        throw new Error('boom');
      },
      (error) => error,
    );
    expect(answer).toEqual({ errorCode: WireError.UNKNOWN_SERVER_ERROR, errorMessage: 'boom' });
  });
});
