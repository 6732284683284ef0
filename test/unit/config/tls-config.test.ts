/**
 * The broker's TLS settings at start-up (src/config/tls-config.ts): a TLS
 * listener without usable key material stops the broker with a message that
 * names the key; the material is read once, checked, and handed on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { httpTlsOf, listenerSecurityOf } from '../../../src/config/tls-config.js';
import { makeTestCerts, type TestCerts } from '../../helpers/certs.js';
import { tempDir } from '../../helpers/temp-dir.js';

let certs: TestCerts;
let cleanup: () => void;

beforeAll(() => {
  const dir = tempDir('sluice-tls-config-');
  cleanup = dir.cleanup;
  certs = makeTestCerts(dir.dir);
});

afterAll(() => cleanup());

const security = (entries: Record<string, string>) =>
  listenerSecurityOf(parseBrokerConfig(new Map(Object.entries(entries))));
const ssl = { 'native.security.protocol': 'SSL', 'inter.broker.security.protocol': 'SSL' };

describe('listener security from the broker config', () => {
  it('is PLAINTEXT everywhere by default, with no TLS material', () => {
    expect(security({})).toEqual({ native: 'PLAINTEXT', kafka: 'PLAINTEXT', interBroker: 'PLAINTEXT' });
  });

  it('refuses a TLS listener without ssl.keystore.location, naming the key', () => {
    expect(() => security(ssl)).toThrow(
      'native.security.protocol=SSL needs ssl.keystore.location: a PEM file with the private key and the certificate chain',
    );
    expect(() => security({ 'kafka.port': '0', 'kafka.security.protocol': 'SASL_SSL' })).toThrow(
      /kafka.security.protocol=SASL_SSL needs ssl.keystore.location/,
    );
  });

  it('refuses other keystore types and protocols by name', () => {
    expect(() => security({ 'ssl.keystore.type': 'JKS' })).toThrow(
      'invalid value "JKS" for ssl.keystore.type: not one of PEM',
    );
    expect(() => security({ 'native.security.protocol': 'TLS' })).toThrow(/native.security.protocol/);
    expect(() => security({ 'ssl.client.auth': 'optional' })).toThrow(/ssl.client.auth/);
  });

  it('refuses inter.broker.security.protocol other than the native listener’s', () => {
    expect(() =>
      security({ 'native.security.protocol': 'SSL', 'inter.broker.security.protocol': 'PLAINTEXT' }),
    ).toThrow(/inter.broker.security.protocol=PLAINTEXT but native.security.protocol=SSL/);
  });

  it('takes the native listener’s protocol for inter.broker.security.protocol when it is not set', () => {
    expect(security({ 'native.security.protocol': 'SASL_PLAINTEXT' })).toEqual({
      native: 'SASL_PLAINTEXT',
      kafka: 'PLAINTEXT',
      interBroker: 'SASL_PLAINTEXT',
    });
  });

  it('refuses an unreadable keystore, one without a key or certificate, an encrypted key without its password', () => {
    const base = { ...ssl, 'ssl.keystore.location': certs.broker.keystore };
    expect(() => security({ ...base, 'ssl.keystore.location': '/nonexistent.pem' })).toThrow(
      /ssl.keystore.location \/nonexistent.pem cannot be read/,
    );
    expect(() => security({ ...base, 'ssl.keystore.location': certs.broker.cert })).toThrow(/holds no PEM private key/);
    expect(() => security({ ...base, 'ssl.keystore.location': certs.broker.key })).toThrow(/holds no PEM certificate/);
    expect(() => security({ ...base, 'ssl.keystore.location': certs.brokerEncrypted.keystore })).toThrow(
      /cannot be read \(encrypted\? set ssl.key.password\)/,
    );
    expect(() =>
      security({ ...base, 'ssl.keystore.location': certs.brokerEncrypted.keystore, 'ssl.key.password': 'wrong' }),
    ).toThrow(/is ssl.key.password right\?/);
    const mismatched = path.join(certs.dir, 'mismatched.pem');
    fs.writeFileSync(
      mismatched,
      fs.readFileSync(certs.client.key, 'utf8') + fs.readFileSync(certs.broker.cert, 'utf8'),
    );
    expect(() => security({ ...base, 'ssl.keystore.location': mismatched })).toThrow(
      /the first certificate does not belong to the private key/,
    );
    expect(() => security({ ...base, 'ssl.truststore.location': certs.broker.key })).toThrow(
      /ssl.truststore.location .* holds no PEM certificate/,
    );
  });

  it('reads the key, chain, password, truststore and client auth of a good configuration', () => {
    const s = security({
      ...ssl,
      'ssl.keystore.location': certs.brokerEncrypted.keystore,
      'ssl.key.password': certs.brokerKeyPassword,
      'ssl.truststore.location': certs.ca,
      'ssl.client.auth': 'required',
    });
    expect(s.native).toBe('SSL');
    expect(s.tls?.passphrase).toBe(certs.brokerKeyPassword);
    expect(s.tls?.clientAuth).toBe('required');
    expect(s.tls?.checkHostname).toBe(true);
    expect(s.tls?.cert).toBe(fs.readFileSync(certs.broker.cert, 'utf8').trim());
    expect(s.tls?.ca).toBe(fs.readFileSync(certs.ca, 'utf8').trim());
  });

  it('reads the admin API keystore (http.ssl.*) and names those keys in its errors', () => {
    const http = (entries: Record<string, string>) => httpTlsOf(parseBrokerConfig(new Map(Object.entries(entries))));
    expect(http({})).toBeUndefined();
    expect(http({ 'http.ssl.keystore.location': certs.broker.keystore })?.cert).toContain('BEGIN CERTIFICATE');
    expect(() => http({ 'http.ssl.keystore.location': certs.brokerEncrypted.keystore })).toThrow(
      /the private key in http.ssl.keystore.location .* \(encrypted\? set http.ssl.key.password\)/,
    );
  });
});
