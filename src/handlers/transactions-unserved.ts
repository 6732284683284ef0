/**
 * Transaction APIs whose handlers are being built (issue 21): until each has
 * its own handler file, it answers UNSUPPORTED_VERSION with a message naming
 * the API, so a client learns at once instead of timing out. Each entry here
 * is removed when its handler lands; the file goes with the last one.
 */
import { toWireError } from '../protocol/error-codes.js';
import { ApiKey, apiName } from '../protocol/native/api-keys.js';
import type { Refused } from '../protocol/native/apis.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Handler } from './context.js';

function unserved<K extends ApiKey>(apiKey: K): Handler<K> {
  return {
    apiKey,
    async handle(): Promise<Refused> {
      return toWireError(new SluiceError(ErrorCode.Unsupported, `${apiName(apiKey)} is not served yet (issue 21)`));
    },
  } as unknown as Handler<K>;
}

export const unservedTransactionHandlers = {
  [ApiKey.AddPartitionsToTxn]: unserved(ApiKey.AddPartitionsToTxn),
  [ApiKey.AddOffsetsToTxn]: unserved(ApiKey.AddOffsetsToTxn),
  [ApiKey.EndTxn]: unserved(ApiKey.EndTxn),
  [ApiKey.DescribeTransactions]: unserved(ApiKey.DescribeTransactions),
  [ApiKey.ListTransactions]: unserved(ApiKey.ListTransactions),
};
