/**
 * The broker's TLS material, from its ssl.* keys (Kafka's names; PEM only):
 * read and checked once at start-up, so a listener that cannot serve TLS stops
 * the broker with a message naming the key instead of failing every handshake.
 * The same material secures the broker's own connections to other brokers
 * (inter.broker.security.protocol): the truststore checks the peer, the
 * keystore is the client certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { type SecurityProtocol, usesTls } from '../security/security-protocol.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { BrokerConfig } from './broker-config.js';

export type ClientAuth = 'none' | 'requested' | 'required';

export interface BrokerTls {
  /** The private key (PEM, as stored: possibly encrypted). */
  key: string;
  /** The certificate chain (PEM), the broker's own certificate first. */
  cert: string;
  /** ssl.key.password, when set. */
  passphrase?: string;
  /** The truststore's CA certificates (PEM); undefined: the system CAs. */
  ca?: string;
  clientAuth: ClientAuth;
  /** ssl.endpoint.identification.algorithm=https: a peer broker's certificate must name its host. */
  checkHostname: boolean;
}

export interface ListenerSecurity {
  native: SecurityProtocol;
  kafka: SecurityProtocol;
  interBroker: SecurityProtocol;
  /** Present when any of them uses TLS. */
  tls?: BrokerTls;
}

function invalid(message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidConfig, message);
}

const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates in `pem` (in order). */
export function pemCertificates(pem: string): string[] {
  return pem.match(certificateBlock) ?? [];
}

function readPem(key: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalid(`${key} ${file} cannot be read: ${(err as Error).message}`);
  }
}

/** The listeners' protocols and, when one of them uses TLS, the checked key material. */
export function listenerSecurityOf(config: BrokerConfig): ListenerSecurity {
  const protocol = (key: 'native.security.protocol' | 'kafka.security.protocol') =>
    config.string(key) as SecurityProtocol;
  const native = protocol('native.security.protocol');
  const security: ListenerSecurity = {
    native,
    kafka: protocol('kafka.security.protocol'),
    // brokers reach each other on the native listener: unset means its protocol
    interBroker: (config.string('inter.broker.security.protocol') ||
      config.string('native.security.protocol')) as SecurityProtocol,
  };
  // brokers reach each other on the native listener (Kafka: inter.broker.security.protocol must name a listener's)
  if (security.interBroker !== security.native) {
    throw invalid(
      `inter.broker.security.protocol=${security.interBroker} but native.security.protocol=${security.native}: brokers talk to each other on the native listener, so the two must be the same`,
    );
  }
  const tlsKey = [
    ['native.security.protocol', security.native],
    ['kafka.security.protocol', config.int('kafka.port') >= 0 ? security.kafka : 'PLAINTEXT'],
  ].find(([, p]) => usesTls(p as SecurityProtocol));
  if (tlsKey) security.tls = brokerTlsOf(config, `${tlsKey[0]}=${tlsKey[1]}`);
  return security;
}

/** A PEM keystore (private key + certificate chain), checked: the key opens with its password and matches the certificate. */
export interface Keystore {
  key: string;
  cert: string;
  passphrase?: string;
}

/** The admin API's HTTPS keystore (http.ssl.*), or undefined for plain HTTP. */
export function httpTlsOf(config: BrokerConfig): Keystore | undefined {
  const location = config.string('http.ssl.keystore.location');
  if (location === '') return undefined;
  return readKeystore(
    location,
    'http.ssl.keystore.location',
    config.string('http.ssl.key.password'),
    'http.ssl.key.password',
  );
}

function brokerTlsOf(config: BrokerConfig, why: string): BrokerTls {
  const location = config.string('ssl.keystore.location');
  if (location === '') {
    throw invalid(`${why} needs ssl.keystore.location: a PEM file with the private key and the certificate chain`);
  }
  const keystore = readKeystore(
    location,
    'ssl.keystore.location',
    config.string('ssl.key.password'),
    'ssl.key.password',
  );
  const tls: BrokerTls = {
    ...keystore,
    clientAuth: config.string('ssl.client.auth') as ClientAuth,
    checkHostname: config.string('ssl.endpoint.identification.algorithm') === 'https',
  };
  const trustLocation = config.string('ssl.truststore.location');
  if (trustLocation !== '') {
    const trusted = pemCertificates(readPem('ssl.truststore.location', trustLocation));
    if (trusted.length === 0) throw invalid(`ssl.truststore.location ${trustLocation} holds no PEM certificate`);
    tls.ca = trusted.join('\n');
  }
  return tls;
}

function readKeystore(location: string, locationKey: string, password: string, passwordKey: string): Keystore {
  const keystore = readPem(locationKey, location);
  const passphrase = password || undefined;
  const keyBlock =
    /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/.exec(
      keystore,
    );
  if (!keyBlock) throw invalid(`${locationKey} ${location} holds no PEM private key`);
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey({ key: keyBlock[0], passphrase });
  } catch (err) {
    const hint = passphrase === undefined ? ` (encrypted? set ${passwordKey})` : ` (is ${passwordKey} right?)`;
    throw invalid(`the private key in ${locationKey} ${location} cannot be read${hint}: ${(err as Error).message}`);
  }
  const chain = pemCertificates(keystore);
  const first = chain[0];
  if (first === undefined) throw invalid(`${locationKey} ${location} holds no PEM certificate`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(first);
  } catch (err) {
    throw invalid(`the certificate in ${locationKey} ${location} cannot be read: ${(err as Error).message}`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw invalid(`${locationKey} ${location}: the first certificate does not belong to the private key`);
  }
  return { key: keyBlock[0], cert: chain.join('\n'), ...(passphrase === undefined ? {} : { passphrase }) };
}
