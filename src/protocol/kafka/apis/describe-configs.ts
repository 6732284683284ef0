/**
 * DescribeConfigs (key 32), v0-v4 (v4 flexible): topic and broker
 * configuration, from the native handler. v0 says whether a value is a
 * default; v1+ says where it comes from (config source) and, when asked,
 * lists its synonyms (the topic override, the broker's static value, the
 * default); v3+ gives each config's type and, when asked, its documentation.
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
import { resourcesField } from '../shapes.js';

const request = struct({
  resources: resourcesField({ configurationKeys: field(nullableArray(string), null) }),
  includeSynonyms: field(bool, false, 1),
  includeDocumentation: field(bool, false, 3),
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
  configType: field(int8, 0, 3),
  documentation: field(nullableString, null, 3),
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
  maxVersion: 4,
  flexibleFrom: 4,
  request,
  response,
  toNative: (req: Request) => ({
    resources: req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configurationKeys: r.configurationKeys,
    })),
    includeSynonyms: req.includeSynonyms,
    includeDocumentation: req.includeDocumentation,
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
          synonyms: c.synonyms ?? [],
          configType: c.configType ?? 0,
          documentation: c.documentation ?? null,
        })),
      })),
    };
  },
});
