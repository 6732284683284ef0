/**
 * DescribeConfigs (key 32), v0-v2: topic and broker configuration, from the
 * native handler. v0 says whether a value is a default; v1+ says where it
 * comes from (config source) and may list synonyms, of which Sluice reports
 * none.
 */

import {
  array,
  bool,
  field,
  type Infer,
  int8,
  int16,
  int32,
  nullableArray,
  nullableString,
  string,
  struct,
} from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  resources: field(
    array(
      struct({
        resourceType: field(int8, 0),
        resourceName: field(string, ''),
        configurationKeys: field(nullableArray(string), null),
      }),
    ),
    [],
  ),
  includeSynonyms: field(bool, false, 1),
});

const synonym = struct({
  name: field(string, ''),
  value: field(nullableString, null),
  source: field(int8, -1),
});

const config = struct({
  name: field(string, ''),
  value: field(nullableString, null),
  readOnly: field(bool, false),
  isDefault: field(bool, false, 0, 0),
  configSource: field(int8, -1, 1),
  isSensitive: field(bool, false),
  synonyms: field(array(synonym), [], 1),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  results: field(
    array(
      struct({
        errorCode: field(int16, 0),
        errorMessage: field(nullableString, null),
        resourceType: field(int8, 0),
        resourceName: field(string, ''),
        configs: field(array(config), []),
      }),
    ),
    [],
  ),
});

type Request = Infer<typeof request>;

export const describeConfigsApi = kafkaApi({
  apiKey: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req: Request) => ({
    resources: req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configurationKeys: r.configurationKeys,
    })),
  }),
  fromNative: (result, req: Request) => {
    if (!result.results) {
      const { errorCode, errorMessage } = errorOf(result);
      return {
        throttleTimeMs: 0,
        results: req.resources.map((r) => ({
          errorCode,
          errorMessage,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: [],
        })),
      };
    }
    return {
      throttleTimeMs: 0,
      results: result.results.map((r) => ({
        errorCode: r.errorCode,
        errorMessage: r.errorMessage ?? null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: r.configs.map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          isDefault: c.isDefault,
          configSource: c.source,
          isSensitive: c.isSensitive,
          synonyms: [],
        })),
      })),
    };
  },
});
