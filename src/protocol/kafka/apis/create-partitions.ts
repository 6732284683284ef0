/**
 * CreatePartitions (key 37), v0-v3 (v2+ flexible): each topic grows to its
 * new partition count through the native handler (TopicManager: the
 * controller places and elects the new partitions). Manual replica
 * assignments are not supported: such a topic is refused with
 * INVALID_REQUEST and not changed, the others go ahead (as CreateTopics).
 */

import {
  array,
  bool,
  field,
  type Infer,
  int16,
  int32,
  nullableArray,
  nullableString,
  string,
  struct,
} from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { topicResults } from '../shapes.js';

const request = struct({
  topics: field(
    array(
      struct({
        name: field(string, ''),
        count: field(int32, 0),
        assignments: field(nullableArray(struct({ brokerIds: field(array(int32), []) })), null),
      }),
    ),
    [],
  ),
  timeoutMs: field(int32, 60_000),
  validateOnly: field(bool, false),
});

const response = struct({
  throttleTimeMs: field(int32, 0),
  results: field(
    array(
      struct({
        name: field(string, ''),
        errorCode: field(int16, 0),
        errorMessage: field(nullableString, null),
      }),
    ),
    [],
  ),
});

type Request = Infer<typeof request>;
type Topic = Request['topics'][number];

const manualAssignment = (t: Topic): boolean => t.assignments !== null;

export const createPartitionsApi = kafkaApi({
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request,
  response,
  toNative: (req: Request) => ({
    topics: req.topics.filter((t) => !manualAssignment(t)).map((t) => ({ name: t.name, count: t.count })),
    timeoutMs: req.timeoutMs,
    validateOnly: req.validateOnly,
  }),
  fromNative: (result, req: Request) => ({
    throttleTimeMs: 0,
    results: topicResults(result, req.topics, (t) =>
      manualAssignment(t)
        ? 'manual replica assignments for new partitions are not supported by Sluice: give only the new count'
        : null,
    ),
  }),
});
