/** The TransactionalId resource checks of the transaction APIs (Kafka's: Write to use an id, Describe to see it). */
import { type AclOperation, ResourceType } from '../security/acl.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import { allowed } from './authorize.js';
import type { ClientInfo, HandlerContext } from './context.js';

/** Throws TRANSACTIONAL_ID_AUTHORIZATION_FAILED unless the client may do `operation` on the transactional id. */
export function checkTransactionalId(
  ctx: HandlerContext,
  client: ClientInfo,
  operation: AclOperation,
  transactionalId: string,
): void {
  if (!allowed(ctx, client, operation, ResourceType.TransactionalId, transactionalId)) {
    throw new SluiceError(
      ErrorCode.TransactionalIdAuthorizationFailed,
      `${client.principal} is not authorized to use transactional id ${transactionalId}`,
    );
  }
}
