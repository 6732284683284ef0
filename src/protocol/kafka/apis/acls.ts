/**
 * The ACL APIs (issue 17), v0-v3 each, flexible from v2; v1 added the
 * pattern type (PREFIXED, KIP-290: v0 knows only LITERAL, its default 3):
 *  - DescribeAcls (29): the ACLs one filter selects, grouped by resource;
 *  - CreateAcls (30): one result per creation;
 *  - DeleteAcls (31): per filter, the ACLs it deleted.
 * The fields are Kafka's (clients/src/main/resources/common/message/*Acls*.json);
 * the codes are Kafka's and pass through to the native handler unchanged.
 */

import { array, field, type Infer, int8, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { errorOf, kafkaApi } from '../api.js';

/** PatternType LITERAL: what a v0 request means and a v0 response cannot say otherwise. */
const literal = 3;

const filterFields = {
  resourceTypeFilter: field(int8, 0),
  resourceNameFilter: field(nullableString, null),
  patternTypeFilter: field(int8, literal, 1),
  principalFilter: field(nullableString, null),
  hostFilter: field(nullableString, null),
  operation: field(int8, 0),
  permissionType: field(int8, 0),
};
type FilterReq = { [K in keyof typeof filterFields]: (typeof filterFields)[K]['value'] };

const nativeFilter = (f: FilterReq) => ({
  resourceType: f.resourceTypeFilter,
  resourceName: f.resourceNameFilter,
  patternType: f.patternTypeFilter,
  principal: f.principalFilter,
  host: f.hostFilter,
  operation: f.operation,
  permission: f.permissionType,
});

// ---- DescribeAcls ----

const describeRequest = struct(filterFields);
const describeResponse = struct({
  throttleTimeMs: field(int32, 0),
  errorCode: field(int16, 0),
  errorMessage: field(nullableString, null),
  resources: field(
    array(
      struct({
        resourceType: field(int8, 0),
        resourceName: field(string, ''),
        patternType: field(int8, literal, 1),
        acls: field(
          array(
            struct({
              principal: field(string, ''),
              host: field(string, ''),
              operation: field(int8, 0),
              permissionType: field(int8, 0),
            }),
          ),
          [],
        ),
      }),
    ),
    [],
  ),
});

export const describeAclsApi = kafkaApi({
  apiKey: 29,
  name: 'DescribeAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: describeRequest,
  response: describeResponse,
  toNative: (req: Infer<typeof describeRequest>) => nativeFilter(req),
  fromNative: (result, _req, version) => {
    const { errorCode, errorMessage } = errorOf(result);
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      resources: (result.resources ?? [])
        // a v0 client cannot tell a prefixed pattern from a literal one: it is shown only the literal ones
        .filter((r) => version >= 1 || r.patternType === literal)
        .map((r) => ({
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          patternType: r.patternType,
          acls: r.acls.map((a) => ({
            principal: a.principal,
            host: a.host,
            operation: a.operation,
            permissionType: a.permission,
          })),
        })),
    };
  },
});

// ---- CreateAcls ----

const createRequest = struct({
  creations: field(
    array(
      struct({
        resourceType: field(int8, 0),
        resourceName: field(string, ''),
        resourcePatternType: field(int8, literal, 1),
        principal: field(string, ''),
        host: field(string, ''),
        operation: field(int8, 0),
        permissionType: field(int8, 0),
      }),
    ),
    [],
  ),
});
const createResponse = struct({
  throttleTimeMs: field(int32, 0),
  results: field(array(struct({ errorCode: field(int16, 0), errorMessage: field(nullableString, null) })), []),
});

export const createAclsApi = kafkaApi({
  apiKey: 30,
  name: 'CreateAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: createRequest,
  response: createResponse,
  toNative: (req: Infer<typeof createRequest>) => ({
    creations: req.creations.map((c) => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permission: c.permissionType,
    })),
  }),
  fromNative: (result, req: Infer<typeof createRequest>) => {
    const failed = errorOf(result);
    return {
      throttleTimeMs: 0,
      results: req.creations.map((_, i) => {
        const r = result.results?.[i];
        return r ? { errorCode: r.errorCode, errorMessage: r.errorMessage ?? null } : failed;
      }),
    };
  },
});

// ---- DeleteAcls ----

const deleteRequest = struct({ filters: field(array(struct(filterFields)), []) });
const deleteResponse = struct({
  throttleTimeMs: field(int32, 0),
  filterResults: field(
    array(
      struct({
        errorCode: field(int16, 0),
        errorMessage: field(nullableString, null),
        matchingAcls: field(
          array(
            struct({
              errorCode: field(int16, 0),
              errorMessage: field(nullableString, null),
              resourceType: field(int8, 0),
              resourceName: field(string, ''),
              patternType: field(int8, literal, 1),
              principal: field(string, ''),
              host: field(string, ''),
              operation: field(int8, 0),
              permissionType: field(int8, 0),
            }),
          ),
          [],
        ),
      }),
    ),
    [],
  ),
});

export const deleteAclsApi = kafkaApi({
  apiKey: 31,
  name: 'DeleteAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: deleteRequest,
  response: deleteResponse,
  toNative: (req: Infer<typeof deleteRequest>) => ({ filters: req.filters.map(nativeFilter) }),
  fromNative: (result, req: Infer<typeof deleteRequest>) => {
    const failed = errorOf(result);
    return {
      throttleTimeMs: 0,
      filterResults: req.filters.map((_, i) => {
        const r = result.filterResults?.[i];
        if (!r) return { ...failed, matchingAcls: [] };
        return {
          errorCode: r.errorCode,
          errorMessage: r.errorMessage ?? null,
          matchingAcls: r.matchingAcls.map((a) => ({
            errorCode: a.errorCode,
            errorMessage: a.errorMessage ?? null,
            resourceType: a.resourceType,
            resourceName: a.resourceName,
            patternType: a.patternType,
            principal: a.principal,
            host: a.host,
            operation: a.operation,
            permissionType: a.permission,
          })),
        };
      }),
    };
  },
});
