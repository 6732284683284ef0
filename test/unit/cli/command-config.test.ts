/** --command-config: Kafka client properties → the client's ssl/sasl options (src/cli/command-config.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandSecurityOf, readCommandConfig } from '../../../src/cli/command-config.js';
import { tempDir } from '../../helpers/temp-dir.js';

let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('sluice-command-config-'));
  fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA PEM');
  fs.writeFileSync(path.join(dir, 'cert.pem'), 'CERT PEM');
  fs.writeFileSync(path.join(dir, 'key.pem'), 'KEY PEM');
});

afterAll(() => cleanup());

const of = (entries: Record<string, string>) =>
  commandSecurityOf(new Map(Object.entries(entries)), 'client.properties');

describe('--command-config', () => {
  it('is plaintext without SASL when empty or PLAINTEXT', () => {
    expect(of({})).toEqual({});
    expect(of({ 'security.protocol': 'PLAINTEXT' })).toEqual({});
  });

  it('reads the PEM files of SSL and maps the endpoint identification', () => {
    const file = path.join(dir, 'ssl.properties');
    fs.writeFileSync(
      file,
      [
        'security.protocol=SSL',
        `ssl.ca.location=${path.join(dir, 'ca.pem')}`,
        `ssl.certificate.location=${path.join(dir, 'cert.pem')}`,
        `ssl.key.location=${path.join(dir, 'key.pem')}`,
        'ssl.key.password=secret',
      ].join('\n'),
    );
    expect(readCommandConfig(file)).toEqual({
      ssl: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', passphrase: 'secret' },
    });
    const none = of({ 'security.protocol': 'ssl', 'ssl.endpoint.identification.algorithm': 'none' });
    const check = (none.ssl as { checkServerIdentity?: () => unknown }).checkServerIdentity;
    expect(check?.()).toBeUndefined();
  });

  it('maps SASL_SSL with a mechanism and credentials to ssl and sasl (kafkajs spelling)', () => {
    expect(
      of({
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.username': 'alice',
        'sasl.password': 'pw',
      }),
    ).toEqual({ ssl: {}, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'pw' } });
  });

  it('refuses unknown keys, contradictions and missing pieces, by name', () => {
    expect(() => of({ 'ssl.truststore.location': '/x' })).toThrow(
      /--command-config client.properties: unknown key ssl.truststore.location/,
    );
    expect(() => of({ 'security.protocol': 'TLS' })).toThrow(/security.protocol TLS is not one of/);
    expect(() => of({ 'ssl.ca.location': '/x' })).toThrow(/ssl.ca.location set but security.protocol is PLAINTEXT/);
    expect(() => of({ 'security.protocol': 'SSL', 'sasl.username': 'a' })).toThrow(
      /sasl.username set but security.protocol is SSL/,
    );
    expect(() => of({ 'security.protocol': 'SSL', 'ssl.certificate.location': '/x' })).toThrow(/go together/);
    expect(() => of({ 'security.protocol': 'SSL', 'ssl.ca.location': '/nonexistent' })).toThrow(
      /ssl.ca.location \/nonexistent cannot be read/,
    );
    expect(() => of({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'GSSAPI' })).toThrow(
      /sasl.mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/,
    );
    expect(() => of({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN' })).toThrow(
      /sasl.username and sasl.password are required/,
    );
    expect(() => of({ 'security.protocol': 'SSL', 'ssl.endpoint.identification.algorithm': 'http' })).toThrow(
      /is not https or none/,
    );
  });
});
