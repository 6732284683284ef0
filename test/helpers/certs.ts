/**
 * Test certificates made with the openssl command line: a CA, a broker
 * certificate for 127.0.0.1/localhost, a client certificate, an expired client
 * certificate, a self-signed (untrusted) broker certificate, and a broker key
 * encrypted with a password. P-256 keys: quick to make. Every file is PEM; a
 * "keystore" is key + certificate in one file (ssl.keystore.location).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface CertPair {
  /** The private key (PEM file). */
  key: string;
  /** The certificate (PEM file). */
  cert: string;
  /** Key and certificate in one PEM file, as ssl.keystore.location wants it. */
  keystore: string;
}

export interface TestCerts {
  dir: string;
  /** The CA's certificate: the truststore (ssl.truststore.location, ssl.ca.location). */
  ca: string;
  /** Signed by the CA, SAN IP:127.0.0.1 and DNS:localhost, subject CN=broker. */
  broker: CertPair;
  /** The broker key encrypted with `brokerKeyPassword` (its keystore). */
  brokerEncrypted: CertPair;
  brokerKeyPassword: string;
  /** Signed by the CA, subject C=NO,O=Sluice,OU=Test,CN=client (principal User:CN=client,OU=Test,O=Sluice,C=NO). */
  client: CertPair;
  /** Signed by the CA, expired yesterday. */
  expired: CertPair;
  /** Self-signed, SAN IP:127.0.0.1: trusted by nobody. */
  untrusted: CertPair;
}

export const clientCertPrincipal = 'User:CN=client,OU=Test,O=Sluice,C=NO';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keystoreOf(dir: string, name: string): CertPair {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  const keystore = path.join(dir, `${name}.keystore.pem`);
  fs.writeFileSync(keystore, fs.readFileSync(key, 'utf8') + fs.readFileSync(cert, 'utf8'));
  return { key, cert, keystore };
}

/** A key and a certificate signed by the CA in `dir`. */
function signed(dir: string, name: string, subject: string, days: number, ext: string): CertPair {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    String(days),
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.pem`,
  ]);
  return keystoreOf(dir, name);
}

const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n';
const clientExt = 'extendedKeyUsage=clientAuth\n';

/** Makes the whole set in `dir` (synchronously; well under a second). */
export function makeTestCerts(dir: string): TestCerts {
  fs.mkdirSync(dir, { recursive: true });
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=Sluice Test CA',
    '-days',
    '2',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.pem',
  ]);
  const broker = signed(dir, 'broker', '/CN=broker', 2, serverExt);
  const client = signed(dir, 'client', '/C=NO/O=Sluice/OU=Test/CN=client', 2, clientExt);
  // a negative validity: notAfter a day before notBefore (now), so it has expired
  const expired = signed(dir, 'expired', '/CN=expired', -1, clientExt);
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'untrusted.key']);
  openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-key',
    'untrusted.key',
    '-subj',
    '/CN=untrusted',
    '-days',
    '2',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-out',
    'untrusted.pem',
  ]);
  const untrusted = keystoreOf(dir, 'untrusted');
  const brokerKeyPassword = 'keystore-secret';
  openssl(dir, [
    'pkcs8',
    '-topk8',
    '-in',
    'broker.key',
    '-out',
    'broker-encrypted.key',
    '-passout',
    `pass:${brokerKeyPassword}`,
  ]);
  fs.copyFileSync(path.join(dir, 'broker.pem'), path.join(dir, 'broker-encrypted.pem'));
  const brokerEncrypted = keystoreOf(dir, 'broker-encrypted');
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    broker,
    brokerEncrypted,
    brokerKeyPassword,
    client,
    expired,
    untrusted,
  };
}
