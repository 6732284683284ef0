/**
 * AlterConfigs (key 33), v0-v2 (v2 flexible; v1 is v0): each resource's
 * configs replace all of its overrides. Topic resources only; a broker's are
 * refused per resource (see the native handler).
 */

import {
  array,
  bool,
  field,
  type Infer,
  int8,
  int16,
  int32,
  nullableString,
  string,
  struct,
} from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';
import { resourcesField } from '../shapes.js';

const request = struct({
  resources: resourcesField({
    configs: field(array(struct({ name: field(string, ''), value: field(nullableString, null) })), []),
  }),
  validateOnly: field(bool, false),
});

/** The answer of AlterConfigs and IncrementalAlterConfigs (the same layout). */
export const alterConfigsResponse = struct({
  throttleTimeMs: field(int32, 0),
  responses: field(
    array(
      struct({
        errorCode: field(int16, 0),
        errorMessage: field(nullableString, null),
        resourceType: field(int8, 0),
        resourceName: field(string, ''),
      }),
    ),
    [],
  ),
});

type Response = Infer<typeof alterConfigsResponse>;

/** The Kafka answer from the native one; a request failed as a whole gives each resource its error. */
export function alterConfigsFromNative(
  result: { results?: { errorCode: number; errorMessage?: string; resourceType: number; resourceName: string }[] } & {
    errorCode?: number;
    errorMessage?: string;
  },
  resources: readonly { resourceType: number; resourceName: string }[],
): Response {
  if (!result.results) {
    const { errorCode, errorMessage } = errorOf(result);
    return {
      throttleTimeMs: 0,
      responses: resources.map((r) => ({
        errorCode,
        errorMessage,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
      })),
    };
  }
  return {
    throttleTimeMs: 0,
    responses: result.results.map((r) => ({
      errorCode: r.errorCode,
      errorMessage: r.errorMessage ?? null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    })),
  };
}

export const alterConfigsApi = kafkaApi({
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request,
  response: alterConfigsResponse,
  toNative: (req: Infer<typeof request>) => ({
    resources: req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      configs: r.configs.map((c) => ({ name: c.name, value: c.value })),
    })),
    validateOnly: req.validateOnly,
  }),
  fromNative: (result, req) => alterConfigsFromNative(result, req.resources),
});
