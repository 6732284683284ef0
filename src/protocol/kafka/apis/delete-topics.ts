/** DeleteTopics (key 20), v0-v3: topics deleted by the native handler (through the controller). */

import { array, field, type Infer, int16, int32, string, struct } from '../../binary/schema.js';
import { WireError } from '../../error-codes.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  topicNames: field(array(string), []),
  timeoutMs: field(int32, 60_000),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 1),
  responses: field(array(struct({ name: field(string, ''), errorCode: field(int16, 0) })), []),
});

type Request = Infer<typeof request>;

export const deleteTopicsApi = kafkaApi({
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req: Request) => ({ topics: req.topicNames, timeoutMs: req.timeoutMs }),
  fromNative: (result, req: Request) => {
    const { errorCode } = errorOf(result);
    const deleted = new Map((result.topics ?? []).map((t) => [t.name, t.errorCode]));
    return {
      throttleTimeMs: 0,
      responses: req.topicNames.map((name) => ({
        name,
        errorCode: deleted.get(name) ?? (errorCode || WireError.UNKNOWN_SERVER_ERROR),
      })),
    };
  },
});
