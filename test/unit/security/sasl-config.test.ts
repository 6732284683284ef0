/**
 * The config table spells out the security protocols and SASL mechanisms
 * (config may not import security): they must stay the vocabulary's.
 */
import { expect, it } from 'vitest';
import { configKeys } from '../../../src/config/config-keys.js';
import { saslMechanisms, securityProtocols } from '../../../src/security/security-protocol.js';

it("the security keys' allowed values are security-protocol.ts's", () => {
  expect(configKeys['native.security.protocol'].values).toEqual(securityProtocols);
  expect(configKeys['kafka.security.protocol'].values).toEqual(securityProtocols);
  expect(configKeys['sasl.enabled.mechanisms'].values).toEqual(saslMechanisms);
  expect(configKeys['sasl.mechanism.inter.broker.protocol'].values).toEqual(saslMechanisms);
});
