/**
 * DeleteGroups (Kafka's API 42): removes empty consumer groups and their
 * committed offsets, at the group's coordinator (src/groups). Each group gets
 * its own result: NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND
 * when unknown, NOT_COORDINATOR when another broker coordinates it.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { DeleteGroupsResponse } from '../protocol/native/group-messages.js';
import { WireError } from '../shared/errors.js';
import { AclOperation, checkGroup } from './authorize.js';
import { bad, type Handler } from './context.js';
import { orWireError } from './per-partition.js';

export type { DeleteGroupsRequest, DeleteGroupsResponse } from '../protocol/native/group-messages.js';

/** Groups one request may name (each costs a log append). */
const deleteGroupsPerRequestMax = 1000;

export const deleteGroupsHandler: Handler<typeof ApiKey.DeleteGroups> = {
  apiKey: ApiKey.DeleteGroups,
  async handle(request, ctx, client): Promise<DeleteGroupsResponse> {
    const { groups } = request;
    if (groups.length > deleteGroupsPerRequestMax) throw bad(`at most ${deleteGroupsPerRequestMax} groups per request`);
    const results: DeleteGroupsResponse['results'] = [];
    for (const groupId of groups) {
      results.push(
        await orWireError(
          async (): Promise<DeleteGroupsResponse['results'][number]> => {
            checkGroup(ctx, client, AclOperation.Delete, groupId);
            await ctx.groups.deleteGroup(groupId);
            return { groupId, errorCode: WireError.NONE };
          },
          (error) => ({ groupId, ...error }),
        ),
      );
    }
    return { errorCode: 0, results };
  },
};
