/**
 * The native client-quota APIs (issue 17), Kafka's numbers and fields:
 * DescribeClientQuotas (48) and AlterClientQuotas (49). An entity is a list
 * of (entityType `user` | `client-id`, entityName; null for `<default>`).
 * DescribeClientQuotas' matchType: 0 the name given, 1 the default entity,
 * 2 any entity of that type.
 */
import { clientQuotaEntriesMax } from '../../shared/limits.js';
import type { ErrorFields } from './messages.js';
import { boolean, type Infer, intIn, list, nullable, object, shape, text } from './shape.js';

const entityName = nullable(text(1024));
const entityType = text(64);
const quotaValue = shape<number>('a number', (v) => typeof v === 'number' && !Number.isNaN(v));

export const describeClientQuotasRequest = object({
  components: list(object({ entityType, matchType: intIn(0, 2), match: entityName }), 8),
  strict: boolean,
});
export type DescribeClientQuotasRequest = Infer<typeof describeClientQuotasRequest>;
export interface QuotaEntityPart {
  entityType: string;
  entityName: string | null;
}
export interface DescribeClientQuotasResponse extends ErrorFields {
  entries: { entity: QuotaEntityPart[]; values: { key: string; value: number }[] }[];
}

export const alterClientQuotasRequest = object({
  entries: list(
    object({
      entity: list(object({ entityType, entityName }), 8),
      ops: list(object({ key: text(64), value: quotaValue, remove: boolean }), 16),
    }),
    clientQuotaEntriesMax,
  ),
  validateOnly: boolean,
});
export type AlterClientQuotasRequest = Infer<typeof alterClientQuotasRequest>;
export interface AlterClientQuotasResponse extends ErrorFields {
  entries: ({ entity: QuotaEntityPart[] } & ErrorFields)[];
}
