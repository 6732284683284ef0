/**
 * SaslAuthenticate (key 36), v0-v2 (flexible from v2): one SASL message each
 * way (KIP-152). v1 adds session_lifetime_ms (KIP-368): Sluice answers 0, no
 * re-authentication (Kafka's default connections.max.reauth.ms=0). A failed
 * authentication answers SASL_AUTHENTICATION_FAILED with Kafka's message and
 * the listener then closes the connection.
 */
import { bytes, field, int16, int64, nullableString, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({ authBytes: field(bytes, Buffer.alloc(0)) });

const response = struct({
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
  authBytes: field(bytes, Buffer.alloc(0)),
  sessionLifetimeMs: field(int64, 0, 1),
});

export const saslAuthenticateApi = kafkaApi({
  apiKey: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request,
  response,
  toNative: (req) => ({ authBytes: req.authBytes }),
  fromNative: (result) => ({
    ...errorOf(result),
    authBytes: result.authBytes ?? Buffer.alloc(0),
    sessionLifetimeMs: result.sessionLifetimeMs ?? 0,
  }),
});
