/**
 * DescribeClientQuotas (Kafka's API 48) and AlterClientQuotas (49): the
 * stored client quotas (coordination/client-quota-store.ts), as Kafka
 * answers them. An entity names `user` and/or `client-id` (null name:
 * `<default>`); any other type, a type named twice, an unknown quota key or
 * a value that is not positive is INVALID_REQUEST (per entry when altering,
 * nothing of that entry changed). (Authorization — DescribeConfigs /
 * AlterConfigs on the Cluster — is request-authorization.ts's.)
 */
import { checkQuotaChange, type QuotaChanges } from '../coordination/client-quota-store.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type {
  AlterClientQuotasResponse,
  DescribeClientQuotasResponse,
  QuotaEntityPart,
} from '../protocol/native/quota-messages.js';
import { isQuotaKey, type QuotaEntity } from '../security/quotas.js';
import { ErrorCode, SluiceError, toWireError, WireError } from '../shared/errors.js';
import { bad, type Handler, type HandlerContext } from './context.js';

const typeUser = 'user';
const typeClient = 'client-id';

function storeOf(ctx: HandlerContext) {
  const store = ctx.coordinator.clientQuotas;
  if (!store) throw new SluiceError(ErrorCode.BrokerError, 'this broker keeps no client quotas');
  return store;
}

/** Kafka's entity parts as the store's entity; throws InvalidRequest for another type or a type twice. */
export function entityOf(parts: readonly QuotaEntityPart[]): QuotaEntity {
  const entity: QuotaEntity = {};
  for (const part of parts) {
    if (part.entityType === typeUser) {
      if (entity.user !== undefined) throw bad('the entity names user twice');
      entity.user = part.entityName;
    } else if (part.entityType === typeClient) {
      if (entity.clientId !== undefined) throw bad('the entity names client-id twice');
      entity.clientId = part.entityName;
    } else throw bad(`unsupported quota entity type '${part.entityType}' (user, client-id)`);
  }
  if (entity.user === undefined && entity.clientId === undefined) throw bad('the entity is empty');
  return entity;
}

export function partsOf(entity: QuotaEntity): QuotaEntityPart[] {
  const parts: QuotaEntityPart[] = [];
  if (entity.user !== undefined) parts.push({ entityType: typeUser, entityName: entity.user });
  if (entity.clientId !== undefined) parts.push({ entityType: typeClient, entityName: entity.clientId });
  return parts;
}

export const describeClientQuotasHandler: Handler<typeof ApiKey.DescribeClientQuotas> = {
  apiKey: ApiKey.DescribeClientQuotas,
  async handle(request, ctx): Promise<DescribeClientQuotasResponse> {
    const seen = new Set<string>();
    for (const c of request.components) {
      if (c.entityType !== typeUser && c.entityType !== typeClient) {
        throw bad(`unsupported quota entity type '${c.entityType}' (user, client-id)`);
      }
      if (seen.has(c.entityType)) throw bad(`the filter names ${c.entityType} twice`);
      seen.add(c.entityType);
      if (c.matchType === 0 && c.match === null) throw bad('an exact match names the entity');
    }
    const entries: DescribeClientQuotasResponse['entries'] = [];
    for (const record of storeOf(ctx).describe()) {
      const { entity } = record;
      const matches = request.components.every((c) => {
        const name = c.entityType === typeUser ? entity.user : entity.clientId;
        if (name === undefined) return false;
        if (c.matchType === 0) return name === c.match;
        if (c.matchType === 1) return name === null;
        return name !== null;
      });
      // strict: the entity has no part the filter does not name
      const extra =
        (entity.user !== undefined && !seen.has(typeUser)) || (entity.clientId !== undefined && !seen.has(typeClient));
      if (!matches || (request.strict && extra)) continue;
      entries.push({
        entity: partsOf(entity),
        values: Object.entries(record.quotas).map(([key, value]) => ({ key, value })),
      });
    }
    return { errorCode: WireError.NONE, entries };
  },
};

export const alterClientQuotasHandler: Handler<typeof ApiKey.AlterClientQuotas> = {
  apiKey: ApiKey.AlterClientQuotas,
  async handle(request, ctx): Promise<AlterClientQuotasResponse> {
    const store = storeOf(ctx);
    const entries: AlterClientQuotasResponse['entries'] = [];
    for (const entry of request.entries) {
      try {
        const entity = entityOf(entry.entity);
        const changes: QuotaChanges = {};
        for (const op of entry.ops) {
          if (!isQuotaKey(op.key)) throw bad(`unknown quota key ${op.key}`);
          if (op.key in changes) throw bad(`the entry changes ${op.key} twice`);
          changes[op.key] = op.remove ? null : op.value;
        }
        checkQuotaChange(entity, changes);
        if (!request.validateOnly) await store.alter(entity, changes);
        entries.push({ entity: entry.entity, errorCode: WireError.NONE });
      } catch (err) {
        entries.push({ entity: entry.entity, ...toWireError(err) });
      }
    }
    return { errorCode: WireError.NONE, entries };
  },
};
