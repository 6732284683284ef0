/**
 * DescribeClientQuotas (key 48) and AlterClientQuotas (49), v0-1 (v1
 * flexible, KIP-546): the client quotas of user / client-id entities
 * (null name: `<default>`); values are float64 as in Kafka.
 */
import {
  array,
  bool,
  field,
  float64,
  int8,
  int16,
  int32,
  nullableArray,
  nullableString,
  string,
  struct,
} from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const entity = array(struct({ entityType: field(string, ''), entityName: field(nullableString, null) }));

const describeRequest = struct({
  components: field(
    array(struct({ entityType: field(string, ''), matchType: field(int8, 0), match: field(nullableString, null) })),
    [],
  ),
  strict: field(bool, false),
});

const describeResponse = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
  entries: field(
    nullableArray(
      struct({
        entity: field(entity, []),
        values: field(array(struct({ key: field(string, ''), value: field(float64, 0) })), []),
      }),
    ),
    null,
  ),
});

export const describeClientQuotasApi = kafkaApi({
  apiKey: 48,
  name: 'DescribeClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: describeRequest,
  response: describeResponse,
  toNative: (req) => ({ components: req.components, strict: req.strict }),
  fromNative: (result) => {
    const { errorCode, errorMessage } = errorOf(result);
    return { throttleTimeMs: 0, errorCode, errorMessage, entries: result.entries ?? null };
  },
});

const alterRequest = struct({
  entries: field(
    array(
      struct({
        entity: field(entity, []),
        ops: field(array(struct({ key: field(string, ''), value: field(float64, 0), remove: field(bool, false) })), []),
      }),
    ),
    [],
  ),
  validateOnly: field(bool, false),
});

const alterResponse = struct({
  throttleTimeMs: field(int32, 0),
  entries: field(
    array(
      struct({
        errorCode: field(int16, 0),
        errorMessage: field(nullableString, null),
        entity: field(entity, []),
      }),
    ),
    [],
  ),
});

export const alterClientQuotasApi = kafkaApi({
  apiKey: 49,
  name: 'AlterClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: alterRequest,
  response: alterResponse,
  toNative: (req) => ({ entries: req.entries, validateOnly: req.validateOnly }),
  fromNative: (result, req) => {
    if (!result.entries) {
      // refused as a whole: every entry carries the error
      const { errorCode, errorMessage } = errorOf(result);
      return { throttleTimeMs: 0, entries: req.entries.map((e) => ({ errorCode, errorMessage, entity: e.entity })) };
    }
    return {
      throttleTimeMs: 0,
      entries: result.entries.map((e) => ({
        errorCode: e.errorCode,
        errorMessage: e.errorMessage ?? null,
        entity: e.entity,
      })),
    };
  },
});
