/**
 * IncrementalAlterConfigs (key 44, KIP-339), v0-v1 (v1 flexible): per
 * resource, SET / DELETE / APPEND / SUBTRACT operations on single keys.
 * Topic resources only; a broker's are refused per resource (see the native
 * handler). The answer has AlterConfigs' layout.
 */

import { array, bool, field, type Infer, int8, nullableString, string, struct } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { resourcesField } from '../shapes.js';
import { alterConfigsFromNative, alterConfigsResponse } from './alter-configs.js';

const request = struct({
  resources: resourcesField({
    configs: field(
      array(
        struct({
          name: field(string, ''),
          configOperation: field(int8, 0),
          value: field(nullableString, null),
        }),
      ),
      [],
    ),
  }),
  validateOnly: field(bool, false),
});

export const incrementalAlterConfigsApi = kafkaApi({
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request,
  response: alterConfigsResponse,
  toNative: (req: Infer<typeof request>) => ({
    resources: req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configs: r.configs.map((c) => ({ name: c.name, configOperation: c.configOperation, value: c.value })),
    })),
    validateOnly: req.validateOnly,
  }),
  fromNative: (result, req) => alterConfigsFromNative(result, req.resources),
});
