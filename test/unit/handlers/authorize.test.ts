/**
 * The broker's authorizer (src/handlers/authorize.ts): addresses as Kafka's
 * ACL hosts name them, denials logged without flooding, and Kafka's
 * authorizeByResourceType ("Write on any topic", what InitProducerId accepts).
 */
import { describe, expect, it } from 'vitest';
import { AclAuthorizer, clientAddress } from '../../../src/handlers/authorize.js';
import type { ClientInfo } from '../../../src/handlers/context.js';
import { type AclBinding, AclOperation, AclPermission, PatternType, ResourceType } from '../../../src/security/acl.js';
import type { Logger } from '../../../src/shared/logger.js';

function client(principal = 'User:ANONYMOUS', clientHost = '::ffff:127.0.0.1'): ClientInfo {
  return { clientId: 't', clientHost, principal, connectionId: 1, onClose: () => {} };
}

function topicAcl(
  name: string,
  operation: AclOperation,
  permission: typeof AclPermission.Allow | typeof AclPermission.Deny,
  patternType: typeof PatternType.Literal | typeof PatternType.Prefixed = PatternType.Literal,
): AclBinding {
  return {
    pattern: { resourceType: ResourceType.Topic, name, patternType },
    entry: { principal: 'User:ANONYMOUS', host: '*', operation: operation as never, permission },
  };
}

function capture(): { logger: Logger; lines: unknown[] } {
  const lines: unknown[] = [];
  const logger = { info: (f: unknown) => lines.push(f), warn: (f: unknown) => lines.push(f) } as unknown as Logger;
  return { logger, lines };
}

describe('AclAuthorizer', () => {
  it('matches an IPv4-mapped address against a plain IPv4 host ACL', () => {
    expect(clientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientAddress('::1')).toBe('::1');
    const acls = [{ ...topicAcl('t', AclOperation.Read, AclPermission.Allow) }];
    acls[0] = { ...acls[0], entry: { ...acls[0]!.entry, host: '127.0.0.1' } } as AclBinding;
    const a = new AclAuthorizer(() => acls, AclAuthorizer.options('', false), capture().logger);
    expect(a.allows(client(), AclOperation.Read, ResourceType.Topic, 't')).toBe(true);
    expect(a.allows(client('User:ANONYMOUS', '10.1.2.3'), AclOperation.Read, ResourceType.Topic, 't')).toBe(false);
  });

  it('logs each denial with principal, operation, resource and host, at most the window limit', () => {
    const { logger, lines } = capture();
    const a = new AclAuthorizer(() => [], AclAuthorizer.options('User:admin', false), logger);
    for (let i = 0; i < 100; i++) a.allows(client(), AclOperation.Write, ResourceType.Topic, 'orders');
    expect(lines[0]).toMatchObject({
      principal: 'User:ANONYMOUS',
      operation: 'Write',
      resource: 'Topic:orders',
      host: '127.0.0.1',
    });
    expect(lines.length).toBeLessThan(100);
    a.close();
    expect(lines.at(-1)).toMatchObject({ suppressed: 100 - (lines.length - 1) });
    expect(a.allows(client('User:admin'), AclOperation.Write, ResourceType.Topic, 'orders')).toBe(true);
  });

  it('allowsAny: an ALLOW on some topic not covered by a DENY', () => {
    const any = (acls: AclBinding[], allowEveryone = false) =>
      new AclAuthorizer(() => acls, AclAuthorizer.options('', allowEveryone), capture().logger).allowsAny(
        client(),
        AclOperation.Write,
        ResourceType.Topic,
      );
    expect(any([])).toBe(false);
    expect(any([], true)).toBe(true);
    expect(any([topicAcl('a', AclOperation.Write, AclPermission.Allow)])).toBe(true);
    expect(any([topicAcl('a', AclOperation.Read, AclPermission.Allow)])).toBe(false);
    expect(
      any([
        topicAcl('a', AclOperation.Write, AclPermission.Allow),
        topicAcl('a', AclOperation.Write, AclPermission.Deny),
      ]),
    ).toBe(false);
    expect(
      any([
        topicAcl('a.b', AclOperation.Write, AclPermission.Allow),
        topicAcl('a.', AclOperation.All, AclPermission.Deny, PatternType.Prefixed),
      ]),
    ).toBe(false);
    expect(
      any([
        topicAcl('a', AclOperation.All, AclPermission.Allow),
        topicAcl('*', AclOperation.Write, AclPermission.Deny),
      ]),
    ).toBe(false);
    expect(
      any([
        topicAcl('x', AclOperation.Write, AclPermission.Allow),
        topicAcl('y', AclOperation.Write, AclPermission.Deny),
      ]),
    ).toBe(true);
  });
});
