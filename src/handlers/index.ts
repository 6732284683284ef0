/** Every handler, by API key. */
import { apiVersionsHandler } from './api-versions.js';
import type { Handler } from './context.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { describeConfigsHandler } from './describe-configs.js';
import { fetchHandler } from './fetch.js';
import {
  describeGroupsHandler,
  findCoordinatorHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  listGroupsHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  syncGroupHandler,
} from './group-handlers.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { produceHandler } from './produce.js';
import { queueHandlers } from './queue-handlers.js';

export const handlers: ReadonlyMap<number, Handler> = new Map(
  [
    apiVersionsHandler,
    metadataHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    findCoordinatorHandler,
    joinGroupHandler,
    syncGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    listGroupsHandler,
    describeGroupsHandler,
    deleteGroupsHandler,
    offsetForLeaderEpochHandler,
    ...queueHandlers,
    initProducerIdHandler,
    describeConfigsHandler,
  ].map((h) => [h.apiKey, h]),
);
