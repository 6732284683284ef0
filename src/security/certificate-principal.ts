/**
 * The principal of a TLS client certificate, as Kafka's default principal
 * builder makes it: `User:` and the certificate's subject distinguished name in
 * RFC 2253 form (most specific RDN first, comma-separated, e.g.
 * `User:CN=alice,OU=Eng,O=Acme,C=US`).
 */
import { type Principal, userPrincipal } from './principal.js';

/**
 * `subject` as node:crypto's X509Certificate.subject gives it (OpenSSL's
 * multi-line form: one RDN per line in certificate order, values already
 * escaped as RFC 2253 asks, multi-valued RDNs joined by " + ") → the RFC 2253
 * string: lines in reverse order joined by ",", RDN parts joined by "+".
 * A "+" inside a value arrives escaped ("\+"), so only separators are joined.
 */
export function subjectToRfc2253(subject: string): string {
  return subject
    .split('\n')
    .filter((line) => line !== '')
    .reverse()
    .map((rdn) => rdn.replaceAll(' + ', '+'))
    .join(',');
}

export function certificatePrincipal(subject: string): Principal {
  return userPrincipal(subjectToRfc2253(subject));
}
