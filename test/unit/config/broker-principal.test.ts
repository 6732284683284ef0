/**
 * With the authorizer on, the broker's own principal must be a super user, or
 * its replication and queue forwarding are refused with nothing but denial
 * lines to show for it: the broker warns at start (brokerPrincipalProblem).
 */
import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import { brokerPrincipalProblem } from '../../../src/config/inter-broker-sasl.js';

const problem = (entries: Record<string, string>) =>
  brokerPrincipalProblem(parseBrokerConfig(new Map(Object.entries(entries))));

describe("the broker's own principal and super.users", () => {
  it('says nothing without the authorizer', () => {
    expect(problem({})).toBeUndefined();
  });

  it('names the SASL inter-broker user when it is not a super user, and is quiet when it is', () => {
    const sasl = {
      'authorizer.enabled': 'true',
      'native.security.protocol': 'SASL_PLAINTEXT',
      'sasl.inter.broker.username': 'broker',
      'sasl.inter.broker.password': 'secret',
    };
    expect(problem({ ...sasl, 'super.users': 'User:admin' })).toMatch(/principal User:broker is not in super.users/);
    expect(problem({ ...sasl, 'super.users': 'User:admin; User:broker' })).toBeUndefined();
  });

  it('names User:ANONYMOUS on a PLAINTEXT native listener; no check on SSL (the certificate decides)', () => {
    expect(problem({ 'authorizer.enabled': 'true', 'super.users': 'User:admin' })).toMatch(/User:ANONYMOUS/);
    expect(problem({ 'authorizer.enabled': 'true', 'super.users': 'User:ANONYMOUS' })).toBeUndefined();
    expect(problem({ 'authorizer.enabled': 'true', 'native.security.protocol': 'SSL' })).toBeUndefined();
  });
});
