/**
 * `sluice acl add|list|remove` (issue 17), after Kafka's kafka-acls:
 *
 *   sluice acl add --allow-principal User:alice [--deny-principal P] --operation Read [--operation Write]
 *                  (--topic T | --group G | --cluster | --transactional-id X)...
 *                  [--resource-pattern-type literal|prefixed] [--allow-host H] [--deny-host H]
 *   sluice acl list [resource flags] [--resource-pattern-type any|match|literal|prefixed] [--principal P] [--json]
 *   sluice acl remove [same flags as add]   no principal/operation/host: every ACL of the resources
 *
 * Hosts default to `*`. `add` creates every combination (principal × operation
 * × host × resource), as kafka-acls does. Principals, operations and types are
 * Kafka's names, case-insensitive (read, READ, Read; transactional-id).
 */
import type { Command } from 'commander';
import type { AclDescription, AclFilterOptions } from '../client/acl-admin.js';
import { clusterResourceName } from '../security/acl.js';
import { collect, usageError } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { formatTable, writeLine } from './cli-output.js';

interface ResourceFlags {
  topic: string[];
  group: string[];
  transactionalId: string[];
  cluster?: boolean;
  resourcePatternType?: string;
}

interface EntryFlags extends ResourceFlags {
  allowPrincipal: string[];
  denyPrincipal: string[];
  allowHost: string[];
  denyHost: string[];
  operation: string[];
}

function resourcesOf(f: ResourceFlags): { resourceType: string; resourceName: string }[] {
  return [
    ...f.topic.map((name) => ({ resourceType: 'Topic', resourceName: name })),
    ...f.group.map((name) => ({ resourceType: 'Group', resourceName: name })),
    ...f.transactionalId.map((name) => ({ resourceType: 'TransactionalId', resourceName: name })),
    ...(f.cluster ? [{ resourceType: 'Cluster', resourceName: clusterResourceName }] : []),
  ];
}

function resourceOptions(cmd: Command): Command {
  return cmd
    .option('--topic <name>', 'a topic (repeatable; * for every topic)', collect, [])
    .option('--group <name>', 'a consumer group (repeatable; * for every group)', collect, [])
    .option('--transactional-id <id>', 'a transactional id (repeatable)', collect, [])
    .option('--cluster', 'the cluster itself (create topics, manage ACLs, ...)');
}

function entryOptions(cmd: Command): Command {
  return resourceOptions(cmd)
    .option(
      '--allow-principal <principal>',
      'principal to allow, Type:name (User:alice, User:*) (repeatable)',
      collect,
      [],
    )
    .option('--deny-principal <principal>', 'principal to deny (repeatable)', collect, [])
    .option('--allow-host <host>', 'host the allow applies from (default *) (repeatable)', collect, [])
    .option('--deny-host <host>', 'host the deny applies from (default *) (repeatable)', collect, [])
    .option(
      '--operation <op>',
      'Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All (repeatable)',
      collect,
      [],
    )
    .option('--resource-pattern-type <type>', 'literal or prefixed', 'literal');
}

/** Every (principal, host, permission) the flags name. */
function entriesOf(f: EntryFlags): { principal: string; host: string; permission: string }[] {
  const allowHosts = f.allowHost.length > 0 ? f.allowHost : ['*'];
  const denyHosts = f.denyHost.length > 0 ? f.denyHost : ['*'];
  return [
    ...f.allowPrincipal.flatMap((principal) => allowHosts.map((host) => ({ principal, host, permission: 'ALLOW' }))),
    ...f.denyPrincipal.flatMap((principal) => denyHosts.map((host) => ({ principal, host, permission: 'DENY' }))),
  ];
}

function print(acls: AclDescription[]): string {
  return formatTable(
    ['PERMISSION', 'PRINCIPAL', 'HOST', 'OPERATION', 'RESOURCE-TYPE', 'PATTERN-TYPE', 'NAME'],
    acls.map((a) => [a.permission, a.principal, a.host, a.operation, a.resourceType, a.patternType, a.resourceName]),
  );
}

export function registerAclCommands(root: Command): void {
  const acl = root.command('acl').description("add, list and remove ACLs (Kafka's kafka-acls)");

  entryOptions(acl.command('add').description('add ACLs: every principal × operation × host × resource named')).action(
    async (opts: EntryFlags, cmd: Command) => {
      const resources = resourcesOf(opts);
      if (resources.length === 0)
        throw usageError('name a resource: --topic, --group, --cluster or --transactional-id');
      const entries = entriesOf(opts);
      if (entries.length === 0) throw usageError('name a principal: --allow-principal or --deny-principal');
      if (opts.operation.length === 0) throw usageError('name an operation: --operation');
      const acls: AclDescription[] = resources.flatMap((r) =>
        entries.flatMap((e) =>
          opts.operation.map((operation) => ({
            ...r,
            patternType: (opts.resourcePatternType ?? 'literal').toUpperCase(),
            ...e,
            operation,
          })),
        ),
      );
      await withClient(globalsOf(cmd), (sluice) => sluice.admin().createAcls(acls));
      await writeLine(`Added ACLs:\n${print(acls)}`);
    },
  );

  resourceOptions(acl.command('list').description('list ACLs (all, or those of the resources named)'))
    .option('--resource-pattern-type <type>', 'any, match, literal or prefixed', 'any')
    .option('--principal <principal>', 'only the ACLs of this principal')
    .option('--json', 'print a JSON array')
    .action(async (opts: ResourceFlags & { principal?: string; json?: boolean }, cmd: Command) => {
      const base: AclFilterOptions = {
        patternType: opts.resourcePatternType ?? 'any',
        ...(opts.principal !== undefined ? { principal: opts.principal } : {}),
      };
      const resources = resourcesOf(opts);
      const filters: AclFilterOptions[] = resources.length === 0 ? [base] : resources.map((r) => ({ ...base, ...r }));
      const acls = await withClient(globalsOf(cmd), async (sluice) => {
        const out: AclDescription[] = [];
        for (const f of filters) out.push(...(await sluice.admin().describeAcls(f)));
        return out;
      });
      await writeLine(opts.json ? JSON.stringify(acls) : print(acls));
    });

  entryOptions(
    acl
      .command('remove')
      .description('remove ACLs: those matching the flags given (all of a resource without principal/operation)'),
  ).action(async (opts: EntryFlags, cmd: Command) => {
    const resources = resourcesOf(opts);
    if (resources.length === 0) throw usageError('name a resource: --topic, --group, --cluster or --transactional-id');
    const patternType = (opts.resourcePatternType ?? 'literal').toUpperCase();
    const named = opts.allowPrincipal.length + opts.denyPrincipal.length > 0;
    const entries: Partial<{ principal: string; host: string; permission: string }>[] = named
      ? entriesOf(opts).map((e) => ({
          principal: e.principal,
          permission: e.permission,
          // a host given narrows the removal; none: every host
          ...((e.permission === 'ALLOW' ? opts.allowHost : opts.denyHost).length > 0 ? { host: e.host } : {}),
        }))
      : [{}];
    const operations: (string | undefined)[] = opts.operation.length > 0 ? opts.operation : [undefined];
    const filters: AclFilterOptions[] = resources.flatMap((r) =>
      entries.flatMap((e) =>
        operations.map((operation) => ({ ...r, patternType, ...e, ...(operation ? { operation } : {}) })),
      ),
    );
    const removed = await withClient(globalsOf(cmd), async (sluice) => {
      const out: AclDescription[] = [];
      for (const f of filters) out.push(...(await sluice.admin().deleteAcls(f)));
      return out;
    });
    await writeLine(removed.length === 0 ? 'No ACL matched: nothing removed' : `Removed ACLs:\n${print(removed)}`);
  });
}
