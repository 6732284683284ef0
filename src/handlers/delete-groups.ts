/**
 * DeleteGroups (Kafka's API 42): removes empty consumer groups and their
 * committed offsets, at the group's coordinator (src/groups). Each group gets
 * its own result: NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND
 * when unknown, NOT_COORDINATOR when another broker coordinates it.
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { ErrorFields } from '../protocol/native/messages.js';
import { WireError } from '../shared/errors.js';
import { arrayField, bad, type Handler } from './context.js';
import { orWireError } from './per-partition.js';

export interface DeleteGroupsRequest {
  groups: string[];
}
export interface DeleteGroupsResponse extends ErrorFields {
  results: ({ groupId: string } & ErrorFields)[];
}

/** Groups one request may name (each costs a log append). */
const deleteGroupsPerRequestMax = 1000;

export const deleteGroupsHandler: Handler = {
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 0,
  async handle(body, ctx): Promise<DeleteGroupsResponse> {
    const groups = arrayField(body, 'groups');
    if (groups.length > deleteGroupsPerRequestMax) throw bad(`at most ${deleteGroupsPerRequestMax} groups per request`);
    const results: DeleteGroupsResponse['results'] = [];
    for (const groupId of groups) {
      if (typeof groupId !== 'string') throw bad('groups must be names');
      results.push(
        await orWireError(
          async (): Promise<DeleteGroupsResponse['results'][number]> => {
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
