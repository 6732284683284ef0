/**
 * The layers of src/ and the only imports allowed between them: the table
 * scripts/layers.cjs (dependency-cruiser) checks on every `npm run lint`.
 * Data flows codec → handler → replica manager → storage; a layer may import
 * only the layers listed against it (and itself). Change a row only with a
 * reason in the commit message (README "Architecture" describes each layer).
 */
'use strict';

/** folder under src/ → the folders under src/ it may import. */
const allowed = {
  // the bottom: nothing in src
  shared: [],
  // RecordBatch v2: bytes, varints, CRC-32C, compression
  wire: ['shared'],
  // principals, SASL/SCRAM mechanics and ACL matching: pure logic, no I/O (stores live in coordination)
  security: ['shared'],
  // segments, indexes, logs, recovery, retention — no network, no protocol, no replicas
  storage: ['wire', 'shared'],
  // broker and topic configuration: keys, defaults, bounds
  config: ['security', 'storage', 'shared'],
  // the Coordinator interface (brokers, topics, leaders, ISR) and its two implementations
  coordination: ['security', 'storage', 'shared'],
  'coordination/standalone': ['security', 'coordination', 'storage', 'shared'],
  'coordination/zookeeper': ['security', 'coordination', 'shared'],
  // protocol definitions, no I/O: error codes, byte schemas, native messages, Kafka APIs
  protocol: ['shared'],
  'protocol/binary': ['shared'],
  'protocol/native': ['protocol', 'protocol/binary', 'wire', 'shared'],
  'protocol/kafka': ['protocol', 'protocol/native', 'protocol/binary', 'wire', 'shared'],
  // the client library (producer, consumer, admin, queues); brokers use it to talk to each other
  client: ['security', 'protocol', 'protocol/native', 'wire', 'shared'],
  // Prometheus metrics; each user declares the narrow interface it reports to
  metrics: ['shared'],
  // partition replicas, leader/follower roles, high watermark, ISR, follower fetching, append wake-ups
  replication: ['storage', 'coordination', 'config', 'protocol', 'protocol/native', 'client', 'wire', 'shared'],
  // creating and deleting topics through the coordinator and the replica manager
  topics: ['replication', 'coordination', 'config', 'storage', 'shared'],
  // consumer groups and committed offsets
  groups: ['topics', 'replication', 'storage', 'protocol', 'protocol/native', 'wire', 'shared'],
  // the transaction coordinator (issue 21): the transaction log, the state machine per transactional id, markers
  // (sent over connections the broker opens for it: no client library here)
  transactions: ['groups', 'topics', 'replication', 'coordination', 'storage', 'protocol/native', 'wire', 'shared'],
  // JMS-style queues and topics over the log
  queues: [
    'topics',
    'replication',
    'coordination',
    'config',
    'storage',
    'protocol',
    'protocol/native',
    'client',
    'wire',
    'shared',
  ],
  // one handler per native API: request → services → response
  handlers: [
    'transactions',
    'groups',
    'queues',
    'topics',
    'replication',
    'coordination',
    'config',
    'storage',
    'protocol',
    'protocol/native',
    'wire',
    'security',
    'shared',
  ],
  // TCP listeners, framing, the native and Kafka codecs, bounded in-flight work
  server: ['security', 'handlers', 'protocol', 'protocol/native', 'protocol/kafka', 'config', 'shared'],
  // the admin HTTP API and console: talks to the broker through the client library
  http: ['security', 'client', 'coordination', 'config', 'storage', 'shared'],
  // the composition root: wiring and lifecycle only, imported by the CLI alone
  broker: [
    'server',
    'http',
    'handlers',
    'queues',
    'transactions',
    'groups',
    'topics',
    'replication',
    'metrics',
    'coordination',
    'coordination/standalone',
    'coordination/zookeeper',
    'config',
    'storage',
    'protocol/native',
    'client',
    'security',
    'shared',
  ],
  // the `sluice` command; storage for the offline `sluice log verify` (reads segment files, like kafka-dump-log)
  cli: ['security', 'broker', 'client', 'config', 'storage', 'wire', 'shared'],
  // src/index.ts: the public exports
  '.': ['client', 'shared'],
};

/** Throws when the table itself has a cycle (so a cycle cannot be allowed by editing it). */
function assertAcyclic(table) {
  const state = new Map();
  const visit = (node, path) => {
    if (state.get(node) === 'done') return;
    if (state.get(node) === 'visiting')
      throw new Error(`scripts/layers.cjs: layer cycle ${[...path, node].join(' → ')}`);
    state.set(node, 'visiting');
    for (const next of table[node] ?? []) {
      if (!(next in table)) throw new Error(`scripts/layers.cjs: ${node} allows unknown layer ${next}`);
      visit(next, [...path, node]);
    }
    state.set(node, 'done');
  };
  for (const node of Object.keys(table)) visit(node, []);
}

assertAcyclic(allowed);

module.exports = { allowed, assertAcyclic };
