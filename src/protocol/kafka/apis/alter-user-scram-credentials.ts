/**
 * AlterUserScramCredentials (key 51), v0, flexible (KIP-554): deletes and
 * upserts SCRAM credentials, one result per user. An upsertion carries the
 * salt and the salted password, never the password. A request refused as a
 * whole carries its error on every user named.
 */
import { array, bytes, field, int8, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({
  deletions: field(array(struct({ name: field(string, ''), mechanism: field(int8, 0) })), []),
  upsertions: field(
    array(
      struct({
        name: field(string, ''),
        mechanism: field(int8, 0),
        iterations: field(int32, 0),
        salt: field(bytes, Buffer.alloc(0)),
        saltedPassword: field(bytes, Buffer.alloc(0)),
      }),
    ),
    [],
  ),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  results: field(
    array(struct({ user: field(string, ''), errorCode: field(int16, 0), errorMessage: field(nullableString, null) })),
    [],
  ),
});

type Request = { deletions: { name: string }[]; upsertions: { name: string }[] };

export const alterUserScramCredentialsApi = kafkaApi({
  apiKey: 51,
  name: 'AlterUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request,
  response,
  toNative: (req) => ({
    deletions: req.deletions.map((d) => ({ name: d.name, mechanism: d.mechanism })),
    upsertions: req.upsertions.map((u) => ({
      name: u.name,
      mechanism: u.mechanism,
      iterations: u.iterations,
      salt: u.salt,
      saltedPassword: u.saltedPassword,
    })),
  }),
  fromNative: (result, req: Request) => {
    if (!result.results) {
      const error = errorOf(result);
      const users = [...new Set([...req.deletions, ...req.upsertions].map((x) => x.name))];
      return { throttleTimeMs: 0, results: users.map((user) => ({ user, ...error })) };
    }
    return {
      throttleTimeMs: 0,
      results: result.results.map((r) => ({
        user: r.user,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage ?? null,
      })),
    };
  },
});
