/**
 * Who a connection acts for, in Kafka's form `User:<name>`: `User:ANONYMOUS`
 * before (or without) authentication, `User:<sasl user>` after SASL, and
 * `User:CN=...` for a TLS client certificate when the listener has no SASL.
 * Authorization (ACLs) and quotas key on this string.
 */
export type Principal = string;

/** The principal of a connection that has not authenticated (Kafka's KafkaPrincipal.ANONYMOUS). */
export const anonymousPrincipal: Principal = 'User:ANONYMOUS';

/** `User:<name>` for an authenticated user name. */
export function userPrincipal(name: string): Principal {
  return `User:${name}`;
}
