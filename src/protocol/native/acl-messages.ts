/**
 * The native ACL APIs (Kafka's CreateAcls 30, DescribeAcls 29, DeleteAcls 31;
 * issue 17): request shapes and response types. Every code is Kafka's wire
 * number (ResourceType, PatternType, AclOperation, AclPermissionType; see
 * src/security/acl.ts), so both listeners carry them unchanged.
 */
import { aclBindingsPerRequestMax, requestStringLengthMax } from '../../shared/limits.js';
import type { ErrorFields } from './messages.js';
import { type Infer, intIn, list, nullable, object, text } from './shape.js';

const name = text(requestStringLengthMax);
const code = intIn(0, 127, 'an int8 code');

/** One ACL: a resource pattern and an entry (principal, host, operation, permission). */
export const aclBindingShape = object({
  resourceType: code,
  resourceName: name,
  patternType: code,
  principal: name,
  host: name,
  operation: code,
  permission: code,
});
export type AclBindingWire = Infer<typeof aclBindingShape>;

/** A filter (Kafka's AclBindingFilter): null strings and the ANY codes (1) match everything; pattern MATCH (2). */
export const aclFilterShape = object({
  resourceType: code,
  resourceName: nullable(name),
  patternType: code,
  principal: nullable(name),
  host: nullable(name),
  operation: code,
  permission: code,
});
export type AclFilterWire = Infer<typeof aclFilterShape>;

export const createAclsRequest = object({ creations: list(aclBindingShape, aclBindingsPerRequestMax) });
export type CreateAclsRequest = Infer<typeof createAclsRequest>;
/** One result per creation, in request order. */
export interface CreateAclsResponse extends ErrorFields {
  results: ErrorFields[];
}

export const describeAclsRequest = aclFilterShape;
export type DescribeAclsRequest = Infer<typeof describeAclsRequest>;
export interface DescribeAclsResponse extends ErrorFields {
  resources: {
    resourceType: number;
    resourceName: string;
    patternType: number;
    acls: { principal: string; host: string; operation: number; permission: number }[];
  }[];
}

export const deleteAclsRequest = object({ filters: list(aclFilterShape, aclBindingsPerRequestMax) });
export type DeleteAclsRequest = Infer<typeof deleteAclsRequest>;
/** One result per filter, in request order, each with the ACLs it deleted. */
export interface DeleteAclsResponse extends ErrorFields {
  filterResults: (ErrorFields & { matchingAcls: (ErrorFields & AclBindingWire)[] })[];
}
