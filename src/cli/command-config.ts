/**
 * `--command-config FILE` (also SLUICE_COMMAND_CONFIG): Kafka client properties
 * (the Java tools' --command-config, librdkafka's names for the PEM files)
 * → the client's `ssl` and `sasl` options. Known keys: security.protocol,
 * ssl.ca.location, ssl.certificate.location, ssl.key.location,
 * ssl.key.password, ssl.endpoint.identification.algorithm (https | none),
 * sasl.mechanism, sasl.username, sasl.password. Any other key is refused by
 * name, as is a setting the protocol does not use (an ssl.* file with
 * PLAINTEXT, say), so a typo cannot silently leave a connection unsecured.
 */
import fs from 'node:fs';
import type { ClientSaslOptions, ClientTlsOptions } from '../client/types.js';
import { readPropertiesFile } from '../config/properties.js';
import { saslMechanisms, securityProtocols, usesSasl, usesTls } from '../security/security-protocol.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';

export interface CommandSecurity {
  ssl?: boolean | ClientTlsOptions;
  sasl?: ClientSaslOptions;
}

const knownKeys = [
  'security.protocol',
  'ssl.ca.location',
  'ssl.certificate.location',
  'ssl.key.location',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
  'sasl.mechanism',
  'sasl.username',
  'sasl.password',
] as const;

function invalid(file: string, message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidConfig, `--command-config ${file}: ${message}`);
}

/** The client security options of the properties file `file`. */
export function readCommandConfig(file: string): CommandSecurity {
  return commandSecurityOf(readPropertiesFile(file), file);
}

export function commandSecurityOf(props: ReadonlyMap<string, string>, file: string): CommandSecurity {
  const unknown = [...props.keys()].filter((k) => !(knownKeys as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw invalid(file, `unknown key ${unknown.join(', ')} (known: ${knownKeys.join(', ')})`);
  }
  const get = (key: (typeof knownKeys)[number]): string | undefined => {
    const v = props.get(key)?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const protocol = get('security.protocol') ?? 'PLAINTEXT';
  const known = securityProtocols.find((p) => p === protocol.toUpperCase());
  if (!known) throw invalid(file, `security.protocol ${protocol} is not one of ${securityProtocols.join(', ')}`);
  const out: CommandSecurity = {};
  const unused = (prefix: string): void => {
    const set = knownKeys.filter((k) => k.startsWith(prefix) && get(k) !== undefined);
    if (set.length > 0) throw invalid(file, `${set.join(', ')} set but security.protocol is ${known}`);
  };
  if (usesTls(known)) out.ssl = tlsOptionsOf(get, file);
  else unused('ssl.');
  if (usesSasl(known)) out.sasl = saslOptionsOf(get, file);
  else unused('sasl.');
  return out;
}

function readPem(file: string, key: string, path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(file, `${key} ${path} cannot be read: ${(err as Error).message}`);
  }
}

function tlsOptionsOf(get: (key: (typeof knownKeys)[number]) => string | undefined, file: string): ClientTlsOptions {
  const tls: ClientTlsOptions = {};
  const ca = get('ssl.ca.location');
  if (ca !== undefined) tls.ca = readPem(file, 'ssl.ca.location', ca);
  const cert = get('ssl.certificate.location');
  const key = get('ssl.key.location');
  if ((cert === undefined) !== (key === undefined)) {
    throw invalid(file, 'ssl.certificate.location and ssl.key.location go together (a client certificate and its key)');
  }
  if (cert !== undefined && key !== undefined) {
    tls.cert = readPem(file, 'ssl.certificate.location', cert);
    tls.key = readPem(file, 'ssl.key.location', key);
  }
  const password = get('ssl.key.password');
  if (password !== undefined) tls.passphrase = password;
  const algorithm = get('ssl.endpoint.identification.algorithm') ?? 'https';
  if (algorithm !== 'https' && algorithm !== 'none') {
    throw invalid(file, `ssl.endpoint.identification.algorithm ${algorithm} is not https or none`);
  }
  if (algorithm === 'none') tls.checkServerIdentity = () => undefined;
  return tls;
}

function saslOptionsOf(get: (key: (typeof knownKeys)[number]) => string | undefined, file: string): ClientSaslOptions {
  const mechanism = get('sasl.mechanism');
  const known = saslMechanisms.find((m) => m === mechanism?.toUpperCase());
  if (!known) throw invalid(file, `sasl.mechanism must be one of ${saslMechanisms.join(', ')}`);
  const username = get('sasl.username');
  const password = get('sasl.password');
  if (username === undefined || password === undefined) {
    throw invalid(file, 'sasl.username and sasl.password are required with SASL');
  }
  return { mechanism: known.toLowerCase() as ClientSaslOptions['mechanism'], username, password };
}
