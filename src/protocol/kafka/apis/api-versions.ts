/**
 * ApiVersions (key 18), v0-v3: what this listener speaks. Answered by the
 * listener itself. v3 is flexible (librdkafka asks with it first); its
 * response header stays v0 whatever the version (KIP-511), see codec.ts.
 */

import { array, field, int16, int32, string, struct } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';

const request = struct({
  clientSoftwareName: field(string, '', 3),
  clientSoftwareVersion: field(string, '', 3),
});

const response = struct({
  errorCode: field(int16, 0),
  apiKeys: field(
    array(struct({ apiKey: field(int16, 0), minVersion: field(int16, 0), maxVersion: field(int16, 0) })),
    [],
  ),
  throttleTimeMs: field(int32, 0, 1),
});

export const apiVersionsApi = kafkaApi({
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request,
  response,
  fromNative: (_result, _request, _version, env) => ({
    errorCode: 0,
    apiKeys: env.supported.map((s) => ({ apiKey: s.apiKey, minVersion: s.minVersion, maxVersion: s.maxVersion })),
    throttleTimeMs: 0,
  }),
});
