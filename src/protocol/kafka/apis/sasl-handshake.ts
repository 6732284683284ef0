/**
 * SaslHandshake (key 17), v0-v1, not flexible: the mechanism the client will
 * authenticate with. v1: the SASL messages then travel in SaslAuthenticate
 * requests (KIP-152); v0: as raw frames (a size, then the message, no Kafka
 * header) until authenticated, which the listener reads (connection.ts).
 * librdkafka needs v0 advertised to use SASL at all (then uses v1).
 */
import { array, field, int16, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

const request = struct({ mechanism: field(string, '') });

const response = struct({
  errorCode: field(int16, 0),
  mechanisms: field(array(string), []),
});

export const saslHandshakeApi = kafkaApi({
  apiKey: 17,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: Number.POSITIVE_INFINITY,
  request,
  response,
  toNative: (req, version) => ({ mechanism: req.mechanism, rawTokens: version === 0 }),
  fromNative: (result) => ({ errorCode: errorOf(result).errorCode, mechanisms: result.mechanisms ?? [] }),
});
