/**
 * The SASL credentials a broker's own clients use (issue 17): replica
 * fetchers, queue forwarding to a queue's leader, the admin HTTP API's client.
 * They all talk to a native listener (another broker's, or this one's), so
 * they authenticate when native.security.protocol is SASL_PLAINTEXT or
 * SASL_SSL, as sasl.inter.broker.username with
 * sasl.mechanism.inter.broker.protocol (Kafka sets the same through the
 * listener's sasl.jaas.config). The shape is the client's ClientSaslOptions.
 */
import { parseSuperUsers } from '../security/acl.js';
import { anonymousPrincipal, userPrincipal } from '../security/principal.js';
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

/**
 * Why this broker's own clients would be refused by the authorizer, or
 * undefined: with authorizer.enabled its principal (the inter-broker SASL user,
 * else User:ANONYMOUS on a PLAINTEXT native listener) must be a super user
 * (Kafka's advice), or replication, queue forwarding and the admin API stall
 * with nothing but "authorization denied" lines to show for it. On an SSL
 * native listener the principal is the broker certificate's subject, which
 * is not known here: no check.
 */
export function brokerPrincipalProblem(config: BrokerConfig): string | undefined {
  if (!config.bool('authorizer.enabled') && config.string('authorizer.class.name') === '') return undefined;
  const protocol = config.string('native.security.protocol');
  if (protocol === 'SSL') return undefined;
  const sasl = interBrokerSasl(config);
  const principal = sasl ? userPrincipal(sasl.username) : anonymousPrincipal;
  if (parseSuperUsers(config.string('super.users')).has(principal)) return undefined;
  return `authorizer.enabled=true but this broker's own principal ${principal} is not in super.users: replication, queue forwarding and the admin API will be refused (add it to super.users, as Kafka advises)`;
}
