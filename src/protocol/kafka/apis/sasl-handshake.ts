/**
 * SaslHandshake (key 17), v0-v1, not flexible: the mechanism the client will
 * authenticate with. v1 means the SASL messages then travel in SaslAuthenticate
 * requests (KIP-152); v0 would mean raw SASL frames without a Kafka header,
 * which Sluice does not read, so only v1 is spoken (every Kafka client since
 * 1.0 — kafkajs, librdkafka, the Java client — sends v1 when it is offered).
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
  minVersion: 1,
  maxVersion: 1,
  flexibleFrom: Number.POSITIVE_INFINITY,
  request,
  response,
  toNative: (req) => ({ mechanism: req.mechanism }),
  fromNative: (result) => ({ errorCode: errorOf(result).errorCode, mechanisms: result.mechanisms ?? [] }),
});
