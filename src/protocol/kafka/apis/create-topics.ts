/**
 * CreateTopics (key 19), v0-v4: topics with a partition count and
 * replication factor (-1: the broker's default) and config overrides, made
 * by the native handler (which forwards to the controller). Manual replica
 * assignments are not supported: such a topic is refused with
 * INVALID_REQUEST and not created, the others go ahead.
 */

import { array, bool, field, type Infer, int16, int32, nullableString, string, struct } from '../../binary/schema.js';
import { kafkaApi } from '../api.js';
import { topicResults } from '../shapes.js';

const request = struct({
  topics: field(
    array(
      struct({
        name: field(string, ''),
        numPartitions: field(int32, -1),
        replicationFactor: field(int16, -1),
        assignments: field(array(struct({ partitionIndex: field(int32, 0), brokerIds: field(array(int32), []) })), []),
        configs: field(array(struct({ name: field(string, ''), value: field(nullableString, null) })), []),
      }),
    ),
    [],
  ),
  timeoutMs: field(int32, 60_000),
  validateOnly: field(bool, false, 1),
});

const response = struct({
  throttleTimeMs: field(int32, 0, 2),
  topics: field(
    array(
      struct({
        name: field(string, ''),
        errorCode: field(int16, 0),
        errorMessage: field(nullableString, null, 1),
      }),
    ),
    [],
  ),
});

type Request = Infer<typeof request>;
type Topic = Request['topics'][number];

const manualAssignment = (t: Topic): boolean => t.assignments.length > 0;

export const createTopicsApi = kafkaApi({
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 5,
  request,
  response,
  toNative: (req: Request) => ({
    topics: req.topics
      .filter((t) => !manualAssignment(t))
      .map((t) => {
        const configs: Record<string, string> = {};
        // a null value asks for the default, which is what leaving the key out does
        for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
        return {
          name: t.name,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          configs,
        };
      }),
    timeoutMs: req.timeoutMs,
    validateOnly: req.validateOnly,
  }),
  fromNative: (result, req: Request) => ({
    throttleTimeMs: 0,
    topics: topicResults(result, req.topics, (t) =>
      manualAssignment(t)
        ? 'manual replica assignments are not supported by Sluice: give a partition count instead'
        : null,
    ),
  }),
});
