/**
 * The shared answers of the Kafka adapters: topics → partitions → error code (OffsetCommit,
 * TxnOffsetCommit), from a per-partition answer or a refusal of the whole request; and the one
 * error code of AddOffsetsToTxn and EndTxn, PRODUCER_FENCED translated for their v0-v1.
 */
import { describe, expect, it } from 'vitest';
import { WireError } from '../../../src/protocol/error-codes.js';
import { partitionErrorsOf } from '../../../src/protocol/kafka/apis/partition-errors.js';
import { txnErrorAnswer } from '../../../src/protocol/kafka/apis/txn-errors.js';

const requested = [
  { name: 'a', partitions: [{ partitionIndex: 0 }, { partitionIndex: 2 }] },
  { name: 'b', partitions: [{ partitionIndex: 1 }] },
];

describe('partitionErrorsOf', () => {
  it("answers each partition with the handler's code, in the handler's order", () => {
    const result = {
      errorCode: 0,
      topics: [
        {
          name: 'b',
          partitions: [{ partition: 1, errorCode: WireError.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'no' }],
        },
        {
          name: 'a',
          partitions: [
            { partition: 0, errorCode: 0 },
            { partition: 2, errorCode: WireError.UNKNOWN_TOPIC_OR_PARTITION },
          ],
        },
      ],
    };
    expect(partitionErrorsOf(result, requested)).toEqual([
      { name: 'b', partitions: [{ partitionIndex: 1, errorCode: WireError.TOPIC_AUTHORIZATION_FAILED }] },
      {
        name: 'a',
        partitions: [
          { partitionIndex: 0, errorCode: 0 },
          { partitionIndex: 2, errorCode: WireError.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
    ]);
  });

  it('gives the error of a request refused as a whole to every partition asked, in request order', () => {
    expect(partitionErrorsOf({ errorCode: WireError.NOT_COORDINATOR, errorMessage: 'moved' }, requested)).toEqual([
      {
        name: 'a',
        partitions: [
          { partitionIndex: 0, errorCode: WireError.NOT_COORDINATOR },
          { partitionIndex: 2, errorCode: WireError.NOT_COORDINATOR },
        ],
      },
      { name: 'b', partitions: [{ partitionIndex: 1, errorCode: WireError.NOT_COORDINATOR }] },
    ]);
  });

  it('answers nothing for a refused request that asked for nothing', () => {
    expect(partitionErrorsOf({ errorCode: WireError.INVALID_REQUEST }, [])).toEqual([]);
  });
});

describe('txnErrorAnswer', () => {
  it('answers PRODUCER_FENCED as INVALID_PRODUCER_EPOCH before v2, as itself from v2', () => {
    const fenced = { errorCode: WireError.PRODUCER_FENCED };
    expect(txnErrorAnswer(fenced, 0)).toEqual({ throttleTimeMs: 0, errorCode: WireError.INVALID_PRODUCER_EPOCH });
    expect(txnErrorAnswer(fenced, 1)).toEqual({ throttleTimeMs: 0, errorCode: WireError.INVALID_PRODUCER_EPOCH });
    expect(txnErrorAnswer(fenced, 2)).toEqual({ throttleTimeMs: 0, errorCode: WireError.PRODUCER_FENCED });
    expect(txnErrorAnswer(fenced, 3)).toEqual({ throttleTimeMs: 0, errorCode: WireError.PRODUCER_FENCED });
  });

  it('passes any other code through, and a success as 0', () => {
    expect(txnErrorAnswer({ errorCode: WireError.CONCURRENT_TRANSACTIONS }, 0).errorCode).toBe(
      WireError.CONCURRENT_TRANSACTIONS,
    );
    expect(txnErrorAnswer({ errorCode: 0 }, 3).errorCode).toBe(0);
    expect(txnErrorAnswer({}, 3).errorCode).toBe(0);
  });
});
