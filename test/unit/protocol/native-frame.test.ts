/**
 * The native envelope: a client id travels on to Kafka clients (a group
 * member's client id, and its member id starts with it), so it is bounded like
 * a Kafka STRING. Found by the fuzzer (seed 7): a 70,000-character client id
 * made every later DescribeGroups answer on the Kafka listener unencodable.
 */
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, frameHeaderBytes } from '../../../src/protocol/native/frame.js';
import { ErrorCode } from '../../../src/shared/errors.js';
import { requestStringLengthMax } from '../../../src/shared/limits.js';

function payloadOf(clientId: string): Buffer {
  return encodeRequest({ apiKey: 3, apiVersion: 0, correlationId: 1, clientId }, { topics: null }).subarray(
    frameHeaderBytes,
  );
}

describe('native request envelope', () => {
  it('accepts a client id up to a Kafka STRING and refuses a longer one in characters or in UTF-8 bytes', () => {
    expect(decodeRequest(payloadOf('c'.repeat(requestStringLengthMax))).header.clientId).toHaveLength(
      requestStringLengthMax,
    );
    for (const clientId of ['c'.repeat(requestStringLengthMax + 1), 'é'.repeat(requestStringLengthMax / 2 + 1)]) {
      expect(() => decodeRequest(payloadOf(clientId))).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidRequest }),
      );
    }
  });
});
