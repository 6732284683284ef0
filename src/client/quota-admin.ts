/**
 * Client quotas (issue 17) through Kafka's AlterClientQuotas and
 * DescribeClientQuotas: an entity is a user and/or a client id, null for
 * Kafka's `<default>`. Any broker answers (each writes the shared store).
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { Cluster } from './cluster.js';
import { checkTopLevel, invalidArgument, wireError } from './errors.js';

/** `user` / `clientId`: a name, null for the default entity, absent when the entity does not name it. */
export interface ClientQuotaEntity {
  user?: string | null;
  clientId?: string | null;
}

export interface ClientQuotaDescription {
  entity: ClientQuotaEntity;
  quotas: Record<string, number>;
}

function parts(entity: ClientQuotaEntity): { entityType: string; entityName: string | null }[] {
  const out: { entityType: string; entityName: string | null }[] = [];
  if (entity.user !== undefined) out.push({ entityType: 'user', entityName: entity.user });
  if (entity.clientId !== undefined) out.push({ entityType: 'client-id', entityName: entity.clientId });
  if (out.length === 0) throw invalidArgument('a quota entity names a user, a client id or both');
  return out;
}

function describeEntity(entity: ClientQuotaEntity): string {
  return parts(entity)
    .map((p) => `${p.entityType}=${p.entityName ?? '<default>'}`)
    .join(',');
}

/** Sets (a number) or removes (null) each quota of one entity. */
export async function alterClientQuota(
  cluster: Cluster,
  entity: ClientQuotaEntity,
  changes: Record<string, number | null>,
): Promise<void> {
  const ops = Object.entries(changes).map(([key, value]) => ({ key, value: value ?? 0, remove: value === null }));
  if (ops.length === 0) throw invalidArgument('no quota to set or remove');
  const res = await cluster.retry(async () => {
    const conn = await cluster.anyConnection();
    return conn.request(ApiKey.AlterClientQuotas, { entries: [{ entity: parts(entity), ops }], validateOnly: false });
  });
  const what = `alter the quotas of ${describeEntity(entity)}`;
  checkTopLevel(res, what);
  const r = res.entries?.[0];
  if (!r) throw wireError(-1, what, 'no answer for the entity');
  if (r.errorCode !== 0) throw wireError(r.errorCode, what, r.errorMessage);
}

/** Every stored client quota. */
export async function describeClientQuotas(cluster: Cluster): Promise<ClientQuotaDescription[]> {
  const res = await cluster.retry(async () => {
    const conn = await cluster.anyConnection();
    return conn.request(ApiKey.DescribeClientQuotas, { components: [], strict: false });
  });
  checkTopLevel(res, 'describe client quotas');
  return (res.entries ?? []).map((e) => {
    const entity: ClientQuotaEntity = {};
    for (const p of e.entity) {
      if (p.entityType === 'user') entity.user = p.entityName;
      else if (p.entityType === 'client-id') entity.clientId = p.entityName;
    }
    return { entity, quotas: Object.fromEntries(e.values.map((v) => [v.key, v.value])) };
  });
}
