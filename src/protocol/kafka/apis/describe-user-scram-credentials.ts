/**
 * DescribeUserScramCredentials (key 50), v0, flexible (KIP-554): the users
 * with SCRAM credentials and each credential's mechanism and iterations.
 * Users null or empty: every user.
 */
import {
  array,
  field,
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
  users: field(nullableArray(struct({ name: field(string, '') })), null),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
  results: field(
    array(
      struct({
        user: field(string, ''),
        errorCode: field(int16, 0),
        errorMessage: field(nullableString, null),
        credentialInfos: field(array(struct({ mechanism: field(int8, 0), iterations: field(int32, 0) })), []),
      }),
    ),
    [],
  ),
});

export const describeUserScramCredentialsApi = kafkaApi({
  apiKey: 50,
  name: 'DescribeUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request,
  response,
  toNative: (req) => ({ users: req.users === null ? null : req.users.map((u) => u.name) }),
  fromNative: (result) => ({
    throttleTimeMs: 0,
    ...errorOf(result),
    results: (result.results ?? []).map((r) => ({
      user: r.user,
      errorCode: r.errorCode,
      errorMessage: r.errorMessage ?? null,
      credentialInfos: r.credentials.map((c) => ({ mechanism: c.mechanism, iterations: c.iterations })),
    })),
  }),
});
