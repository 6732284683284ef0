/**
 * TLS for the client's broker connections: the `ssl` option (kafkajs's shape:
 * true for the system CAs, or node:tls options with PEM material) becomes the
 * options of every tls.connect; a failed handshake becomes one clear,
 * non-retriable SluiceError (an untrusted or expired certificate, a host name
 * the certificate does not name, a plaintext port, a refused client
 * certificate) — retrying cannot fix them (but for a connection closed
 * mid-handshake, which a restarting broker causes too).
 */
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { invalidArgument, markRetriable } from './errors.js';
import type { ClientTlsOptions } from './types.js';

/** What tls.connect is given besides host and port. */
export type TlsConnectOptions = tls.ConnectionOptions;

/** The tls.connect options of the `ssl` option; undefined: plaintext. */
export function tlsOptionsOf(ssl: boolean | ClientTlsOptions | undefined): TlsConnectOptions | undefined {
  if (ssl === undefined || ssl === false) return undefined;
  if (ssl === true) return {};
  if (typeof ssl !== 'object' || ssl === null)
    throw invalidArgument('ssl must be true, false or an object of TLS options');
  return { ...ssl };
}

/**
 * Opens a TLS connection to host:port. The name checked against the
 * broker's certificate (and sent as SNI) is `servername`, else the host;
 * an IP address is checked against the certificate's IP entries and not sent
 * as SNI (RFC 6066 forbids it).
 */
export function tlsConnect(host: string, port: number, options: TlsConnectOptions): tls.TLSSocket {
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
  return tls.connect({ ...options, host, port, ...(servername === undefined ? {} : { servername }) });
}

/** Certificate verification failures (OpenSSL's names, as node reports them). */
const untrusted = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

/**
 * The clear error of a TLS failure talking to `address`, or undefined when
 * `err` is no TLS failure (a refused or reset TCP connection stays a
 * retriable BrokerUnreachable). `handshaking`: the handshake had not finished.
 */
export function tlsFailure(err: NodeJS.ErrnoException, address: string, handshaking: boolean): SluiceError | undefined {
  const code = err.code ?? '';
  const fail = (why: string): SluiceError =>
    new SluiceError(ErrorCode.TlsFailed, `TLS to the broker at ${address} failed: ${why}`, { cause: err });
  if (untrusted.has(code)) return fail(`its certificate is not trusted (${code}): is ssl.ca right?`);
  if (code === 'CERT_HAS_EXPIRED') return fail('its certificate has expired (CERT_HAS_EXPIRED)');
  if (code === 'CERT_NOT_YET_VALID') return fail('its certificate is not valid yet (CERT_NOT_YET_VALID)');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return fail(`its certificate does not name the host: ${err.message}`);
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return fail('it did not answer TLS: is it a PLAINTEXT listener?');
  }
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    return fail('the broker requires a client certificate (ssl.client.auth=required): set ssl.cert and ssl.key');
  }
  if (/^ERR_SSL_(SSLV3|TLSV1)_ALERT_/.test(code)) {
    return fail(`the broker refused the handshake (${code}): is the client certificate trusted by the broker?`);
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return fail(`${code}: ${err.message.split('\n')[0]}`);
  // the TCP connection opened but closed before the handshake ended: a plaintext listener drops a ClientHello
  // as an oversized frame
  if (handshaking && (code === 'ECONNRESET' || /before secure TLS connection/.test(err.message))) {
    // retriable: a broker going down mid-handshake looks the same
    return markRetriable(fail('the connection closed during the TLS handshake: is it a PLAINTEXT listener?'));
  }
  return undefined;
}
