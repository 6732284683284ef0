/**
 * The SASL credentials a broker's own clients use (issue 17): replica
 * fetchers, queue forwarding to a queue's leader, the admin HTTP API's client.
 * They all talk to a native listener (another broker's, or this one's), so
 * they authenticate when native.security.protocol is SASL_PLAINTEXT or
 * SASL_SSL, as sasl.inter.broker.username with
 * sasl.mechanism.inter.broker.protocol (Kafka sets the same through the
 * listener's sasl.jaas.config). The shape is the client's ClientSaslOptions.
 */
import type { BrokerConfig } from './broker-config.js';

export interface InterBrokerSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  password: string;
}

/** The credentials, or undefined when the native listener needs none (or none are configured). */
export function interBrokerSasl(config: BrokerConfig): InterBrokerSasl | undefined {
  const protocol = config.string('native.security.protocol');
  if (protocol !== 'SASL_PLAINTEXT' && protocol !== 'SASL_SSL') return undefined;
  const username = config.string('sasl.inter.broker.username');
  if (username === '') return undefined;
  return {
    mechanism: config.string('sasl.mechanism.inter.broker.protocol').toLowerCase() as InterBrokerSasl['mechanism'],
    username,
    password: config.string('sasl.inter.broker.password'),
  };
}

/** `{ sasl }` to spread into a client's options, or nothing. */
export function interBrokerSaslOption(config: BrokerConfig): { sasl?: InterBrokerSasl } {
  const sasl = interBrokerSasl(config);
  return sasl ? { sasl } : {};
}
