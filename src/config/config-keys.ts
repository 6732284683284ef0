/**
 * Every configuration key, one row each: the broker key (Kafka's name and
 * default where Kafka has the key), the topic-level key that overrides it, its
 * type and bounds, the LogConfig field it sets, and what it means. The broker
 * config parser, the topic-override check and DescribeConfigs all read this
 * table, so a key, a bound or a broker ↔ topic pair is stated only here.
 *
 * The order of the rows is the order DescribeConfigs lists a broker's keys in,
 * and the order of the topic keys is that of a topic's.
 */

import { saslMechanisms, securityProtocols } from '../security/security-protocol.js';
import { assert } from '../shared/assert.js';
import {
  connectionIdleMsDefault,
  connectionIdleMsMax,
  connectionIdleMsMin,
  connectionsMaxDefault,
  connectionsMaxMax,
  connectionsPerIpMaxDefault,
  failedAuthenticationDelayMsDefault,
  failedAuthenticationDelayMsMax,
  frameReadTimeoutMsDefault,
  frameReadTimeoutMsMax,
  frameReadTimeoutMsMin,
  queuedRequestBytesDefault,
  queuedRequestBytesMax,
  queuedRequestBytesMin,
  segmentBytesMax,
  segmentBytesMin,
} from '../shared/limits.js';
import { logFormats } from '../shared/logger.js';
import type { LogConfig } from '../storage/log-config.js';

export type ConfigKind = 'int' | 'double' | 'bool' | 'string' | 'list';

export interface ConfigKeySpec {
  kind: ConfigKind;
  /** The value when the key is not set, as written in a properties file. */
  default: string;
  /** Inclusive bounds of an int or double; none: unbounded (up to Number.MAX_SAFE_INTEGER). */
  min?: number;
  max?: number;
  /** The values a string (or each item of a list) may take, Kafka's spelling (case-sensitive, as Kafka's validators); none: any. */
  values?: readonly string[];
  /** Older broker spellings that set the same value, with the factor to the key's unit. */
  aliases?: [string, number][];
  /** The topic-level key (Kafka's) that overrides this broker key for one topic. */
  topic?: string;
  /** The LogConfig field this key sets (every log's, or one topic's when set through `topic`). */
  log?: keyof LogConfig;
  /** What the key means. */
  doc: string;
}

/** Kafka's "never": a very large number, so comparisons stay simple. */
const never = String(Number.MAX_SAFE_INTEGER);
const hour = 3_600_000;
const day = 24 * hour;
const portMax = 65535;
const int32Max = 2 ** 31 - 1;
const mib = 1024 * 1024;

export const configKeys = {
  'broker.id': { kind: 'int', default: '0', min: 0, max: int32Max, doc: "this broker's id in the cluster" },
  'host.name': { kind: 'string', default: '127.0.0.1', doc: 'the host the broker binds to and advertises' },
  port: { kind: 'int', default: '9092', min: 0, max: portMax, doc: 'the native listener; 0 = any free port' },
  'log.dirs': {
    kind: 'list',
    default: './data',
    aliases: [['log.dir', 1]],
    doc: "directories (comma-separated) holding the partitions' logs",
  },
  'num.partitions': {
    kind: 'int',
    default: '1',
    min: 1,
    max: 100_000,
    doc: 'partitions of a topic created without a count',
  },
  'default.replication.factor': { kind: 'int', default: '1', min: 1, max: 100, doc: 'replicas of a new topic' },
  'log.segment.bytes': {
    kind: 'int',
    default: String(1024 ** 3),
    min: segmentBytesMin,
    max: segmentBytesMax,
    topic: 'segment.bytes',
    log: 'segmentBytes',
    doc: 'roll when the active segment would grow past this',
  },
  'log.roll.ms': {
    kind: 'int',
    default: String(168 * hour),
    min: 1,
    aliases: [['log.roll.hours', hour]],
    topic: 'segment.ms',
    log: 'rollMs',
    doc: 'roll a non-empty segment this long after its first append',
  },
  'log.retention.ms': {
    kind: 'int',
    default: String(168 * hour),
    min: -1,
    // Kafka's precedence: the most specific key (ms) wins over hours and minutes
    aliases: [
      ['log.retention.minutes', 60_000],
      ['log.retention.hours', hour],
    ],
    topic: 'retention.ms',
    log: 'retentionMs',
    doc: 'delete segments whose newest record is older; -1 keeps forever',
  },
  'log.retention.bytes': {
    kind: 'int',
    default: '-1',
    min: -1,
    topic: 'retention.bytes',
    log: 'retentionBytes',
    doc: 'delete the oldest segments while the log is larger; -1 keeps all',
  },
  'log.cleanup.policy': {
    kind: 'list',
    default: 'delete',
    values: ['delete', 'compact'],
    topic: 'cleanup.policy',
    log: 'cleanupPolicy',
    doc: 'delete (retention by time and size), compact (keep the latest record per key), or compact,delete',
  },
  'log.cleaner.delete.retention.ms': {
    kind: 'int',
    default: String(day),
    min: 0,
    topic: 'delete.retention.ms',
    log: 'deleteRetentionMs',
    doc: 'a tombstone of a compacted topic, and a transaction marker whose records were all cleaned, is kept this long after the clean that first kept it alone',
  },
  'log.cleaner.min.cleanable.ratio': {
    kind: 'double',
    default: '0.5',
    min: 0,
    max: 1,
    topic: 'min.cleanable.dirty.ratio',
    log: 'minCleanableDirtyRatio',
    doc: 'clean a compacted log once its uncleaned share of closed-segment bytes reaches this',
  },
  'log.cleaner.min.compaction.lag.ms': {
    kind: 'int',
    default: '0',
    min: 0,
    topic: 'min.compaction.lag.ms',
    log: 'minCompactionLagMs',
    doc: 'a record stays uncompacted at least this long after its timestamp',
  },
  'log.cleaner.max.compaction.lag.ms': {
    kind: 'int',
    default: never,
    min: 1,
    topic: 'max.compaction.lag.ms',
    log: 'maxCompactionLagMs',
    doc: 'a dirty record older than this makes its log cleanable whatever the dirty ratio',
  },
  'log.cleaner.enable': { kind: 'bool', default: 'true', doc: 'run the log cleaner (compacted topics)' },
  'log.cleaner.threads': {
    kind: 'int',
    default: '1',
    min: 1,
    max: 16,
    doc: 'partitions the log cleaner cleans at once (one loop per broker)',
  },
  'log.cleaner.backoff.ms': {
    kind: 'int',
    default: '15000',
    min: 1,
    doc: 'the log cleaner looks for cleanable logs this often when none was',
  },
  'log.cleaner.dedupe.buffer.size': {
    kind: 'int',
    default: String(128 * mib),
    min: mib,
    max: 2 * 1024 * mib,
    doc: "memory for the cleaner's key map (bytes); a bigger dirty part is cleaned in several passes",
  },
  'log.retention.check.interval.ms': { kind: 'int', default: '300000', min: 1, doc: 'how often retention runs' },
  'log.dir.full.retry.ms': {
    kind: 'int',
    default: '1000',
    min: 10,
    max: 300_000,
    doc: 'how often a partition refusing writes for a full disk (ENOSPC, EDQUOT) probes its log directory and takes writes again once space returns',
  },
  'log.dir.free.check.interval.ms': {
    kind: 'int',
    default: '10000',
    min: 100,
    max: hour,
    doc: "how often each log directory's free space is read (the sluice_log_dir_free_bytes gauge and the low-space warning)",
  },
  'log.dir.free.warn.percent': {
    kind: 'double',
    default: '10',
    min: 0,
    max: 100,
    doc: 'a warning is logged when a log directory has less than this share of its file system free (0: never)',
  },
  'log.open.files.max': {
    kind: 'int',
    default: '0',
    min: 0,
    max: 10_000_000,
    doc: 'segment files held open at once; the least recently used is closed and reopened when next read or appended to (0: half the open files limit, ulimit -n)',
  },
  'log.scrub.enable': {
    kind: 'bool',
    default: 'true',
    doc: 'read every closed segment back in the background, checking each batch; a corrupt one is reported and a follower repairs it from its leader',
  },
  'log.scrub.bytes.per.second': {
    kind: 'int',
    default: '4194304',
    min: 1024,
    max: 1073741824,
    doc: 'how fast the scrubber reads segments back (bytes per second, per broker)',
  },
  'log.scrub.interval.ms': {
    kind: 'int',
    default: '3600000',
    min: 0,
    max: 604800000,
    doc: 'pause between two scrub passes over every partition',
  },
  'log.index.interval.bytes': {
    kind: 'int',
    default: '4096',
    min: 1,
    max: int32Max,
    topic: 'index.interval.bytes',
    log: 'indexIntervalBytes',
    doc: 'bytes between sparse offset-index entries',
  },
  'log.flush.interval.messages': {
    kind: 'int',
    default: never,
    min: 1,
    topic: 'flush.messages',
    log: 'flushIntervalMessages',
    doc: 'fsync after this many unflushed records',
  },
  'log.flush.interval.ms': {
    kind: 'int',
    default: never,
    min: 1,
    topic: 'flush.ms',
    log: 'flushIntervalMs',
    doc: 'fsync when the oldest unflushed record is this old',
  },
  'message.max.bytes': {
    kind: 'int',
    default: String(mib + 12),
    min: 64,
    max: 64 * mib,
    topic: 'max.message.bytes',
    log: 'maxMessageBytes',
    doc: 'the largest record batch accepted on append',
  },
  'log.message.timestamp.type': {
    kind: 'string',
    default: 'CreateTime',
    values: ['CreateTime', 'LogAppendTime'],
    topic: 'message.timestamp.type',
    doc: "CreateTime: the producer's timestamps; LogAppendTime: the leader stamps each batch with its append time",
  },
  'log.message.timestamp.difference.max.ms': {
    kind: 'int',
    default: never,
    min: 0,
    topic: 'message.timestamp.difference.max.ms',
    doc: 'a CreateTime record further than this from the broker clock is refused (INVALID_TIMESTAMP)',
  },
  'zookeeper.connect': { kind: 'string', default: '', doc: 'ZooKeeper hosts (host:port,...); empty: standalone' },
  'zookeeper.session.timeout.ms': {
    kind: 'int',
    default: '18000',
    min: 1000,
    max: 600_000,
    doc: "ZooKeeper's session timeout: a broker silent this long is gone",
  },
  'min.insync.replicas': {
    kind: 'int',
    default: '1',
    min: 1,
    max: 100,
    topic: 'min.insync.replicas',
    doc: 'in-sync replicas an acks=-1 write needs',
  },
  'unclean.leader.election.enable': {
    kind: 'bool',
    default: 'false',
    topic: 'unclean.leader.election.enable',
    doc: 'may a replica outside the ISR become leader (losing acknowledged records)',
  },
  'compression.type': {
    kind: 'string',
    default: 'producer',
    // Kafka's values and 'none'
    values: ['producer', 'uncompressed', 'none', 'gzip', 'snappy', 'lz4', 'zstd'],
    topic: 'compression.type',
    doc: 'the codec the leader stores batches in, rewriting those sent in another; producer: as sent',
  },
  'replica.lag.time.max.ms': {
    kind: 'int',
    default: '30000',
    min: 1,
    doc: 'a follower not caught up for this long leaves the ISR',
  },
  'auto.create.topics.enable': { kind: 'bool', default: 'true', doc: 'create an unknown topic on first use' },
  'zookeeper.connection.timeout.ms': {
    kind: 'int',
    default: '18000',
    min: 100,
    max: 600_000,
    doc: 'how long to wait for a ZooKeeper connection',
  },
  'auto.leader.rebalance.enable': {
    kind: 'bool',
    default: 'true',
    doc: 'the controller moves leadership back to preferred replicas',
  },
  'leader.imbalance.check.interval.seconds': {
    kind: 'int',
    default: '300',
    min: 1,
    max: 86_400,
    doc: 'how often the controller checks for leaders off their preferred replica',
  },
  'controlled.shutdown.enable': {
    kind: 'bool',
    default: 'true',
    doc: 'on SIGTERM the broker first has the controller move its leaderships and ISR memberships to other brokers',
  },
  'controlled.shutdown.max.retries': {
    kind: 'int',
    default: '3',
    min: 1,
    max: 10,
    doc: 'attempts of a controlled shutdown before the broker stops anyway',
  },
  'controlled.shutdown.retry.backoff.ms': {
    kind: 'int',
    default: '1000',
    min: 0,
    max: 60_000,
    doc: 'pause between controlled shutdown attempts',
  },
  'controller.broker.fencing.enable': {
    kind: 'bool',
    default: 'true',
    doc: 'the controller probes every broker and fences one that refuses or stays silent, without waiting for its ZooKeeper session',
  },
  'controller.broker.probe.interval.ms': {
    kind: 'int',
    default: '100',
    min: 10,
    max: 10_000,
    doc: "how often the controller probes each broker's native listener",
  },
  'controller.broker.fence.silent.enable': {
    kind: 'bool',
    default: 'true',
    doc: 'also fence a broker that answers no probe for controller.broker.probe.timeout.ms (a stopped process, a long pause); off: such a broker keeps its leaderships until its ZooKeeper session expires',
  },
  'controller.broker.probe.timeout.ms': {
    kind: 'int',
    default: '500',
    min: 100,
    max: 60_000,
    doc: 'a broker that answers no probe for this long is fenced (a refused connection fences at once)',
  },
  'replica.fetch.wait.max.ms': {
    kind: 'int',
    default: '500',
    min: 0,
    max: 60_000,
    doc: "a follower's fetch waits this long for new records; after answers with none, an idle follower waits longer, up to replica.lag.time.max.ms (an append still wakes it at once)",
  },
  'replica.fetch.max.bytes': {
    kind: 'int',
    default: String(mib),
    min: 1024,
    max: 64 * mib,
    doc: "bytes a follower's fetch asks per partition",
  },
  'replica.fetch.backoff.ms': {
    kind: 'int',
    default: '1000',
    min: 0,
    max: 60_000,
    doc: 'a follower waits this long after a failed fetch',
  },
  'offsets.topic.replication.factor': {
    kind: 'int',
    default: '3',
    min: 1,
    max: 100,
    doc: 'replicas of __consumer_offsets (capped by the live brokers)',
  },
  'transaction.state.log.num.partitions': {
    kind: 'int',
    default: '50',
    min: 1,
    max: 1000,
    doc: 'partitions of __transaction_state (fixed once the topic exists: set it before the first transactional producer)',
  },
  'transaction.state.log.replication.factor': {
    kind: 'int',
    default: '3',
    min: 1,
    max: 100,
    doc: 'replicas of __transaction_state (capped by the live brokers)',
  },
  'transaction.state.log.min.isr': {
    kind: 'int',
    default: '2',
    min: 1,
    max: 100,
    doc: 'min.insync.replicas of __transaction_state (capped by its replication factor when created)',
  },
  'transaction.max.timeout.ms': {
    kind: 'int',
    default: '900000',
    min: 1,
    doc: 'the longest transaction.timeout.ms a producer may ask for (INVALID_TRANSACTION_TIMEOUT beyond)',
  },
  'transactional.id.expiration.ms': {
    kind: 'int',
    default: '604800000',
    min: 1,
    doc: 'a transactional id with no transaction for this long is forgotten',
  },
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': {
    kind: 'int',
    default: '10000',
    min: 1,
    doc: 'how often the coordinator aborts transactions open longer than their timeout',
  },
  'transaction.remove.expired.transaction.cleanup.interval.ms': {
    kind: 'int',
    default: '3600000',
    min: 1,
    doc: 'how often the coordinator removes expired transactional ids',
  },
  'producer.id.expiration.ms': {
    kind: 'int',
    default: String(day),
    min: 1000,
    log: 'producerIdExpirationMs',
    doc: "idempotent producers' sequence state older than this may be dropped",
  },
  'socket.request.max.bytes': {
    kind: 'int',
    default: String(100 * mib),
    min: 1024,
    max: int32Max,
    doc: 'the largest request frame',
  },
  'queued.max.request.bytes': {
    kind: 'int',
    default: String(queuedRequestBytesDefault),
    min: queuedRequestBytesMin,
    max: queuedRequestBytesMax,
    doc: "bytes of requests being received or awaiting their answer, over all connections (Kafka's is unbounded)",
  },
  'socket.request.read.timeout.ms': {
    kind: 'int',
    default: String(frameReadTimeoutMsDefault),
    min: frameReadTimeoutMsMin,
    max: frameReadTimeoutMsMax,
    doc: 'a frame must arrive whole within this long of its first byte, or its connection is closed',
  },
  'connections.max.idle.ms': {
    kind: 'int',
    default: String(connectionIdleMsDefault),
    min: connectionIdleMsMin,
    max: connectionIdleMsMax,
    doc: 'a connection idle this long is closed',
  },
  'connection.failed.authentication.delay.ms': {
    kind: 'int',
    default: String(failedAuthenticationDelayMsDefault),
    min: 0,
    max: failedAuthenticationDelayMsMax,
    doc: 'a failed SASL authentication is answered, and its connection closed, this long after it failed (less than connections.max.idle.ms)',
  },
  'max.connections': {
    kind: 'int',
    default: String(connectionsMaxDefault),
    min: 1,
    max: connectionsMaxMax,
    doc: 'open connections over all listeners',
  },
  'max.connections.per.ip': {
    kind: 'int',
    default: String(connectionsPerIpMaxDefault),
    min: 1,
    max: connectionsMaxMax,
    doc: 'open connections from one address',
  },
  'kafka.port': {
    kind: 'int',
    default: '-1',
    min: -1,
    max: portMax,
    doc: 'the Kafka-protocol listener (kcat, kafkajs, librdkafka); -1 = off, 0 = any free port',
  },
  'native.security.protocol': {
    kind: 'string',
    default: 'PLAINTEXT',
    values: securityProtocols,
    doc: 'the native listener: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL',
  },
  'kafka.security.protocol': {
    kind: 'string',
    default: 'PLAINTEXT',
    values: securityProtocols,
    doc: 'the Kafka-protocol listener: PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL',
  },
  'inter.broker.security.protocol': {
    kind: 'string',
    default: '',
    values: [...securityProtocols, ''],
    doc: "how brokers reach each other's native listener (replication, queue forwarding): empty = native.security.protocol; if set, it must equal it",
  },
  'ssl.keystore.type': { kind: 'string', default: 'PEM', values: ['PEM'], doc: 'the keystore format: PEM only' },
  'ssl.keystore.location': {
    kind: 'string',
    default: '',
    doc: "a PEM file with the broker's private key and certificate chain (needed by an SSL or SASL_SSL listener)",
  },
  'ssl.key.password': { kind: 'string', default: '', doc: "the password of the keystore's private key, if encrypted" },
  'ssl.client.auth': {
    kind: 'string',
    default: 'none',
    values: ['none', 'requested', 'required'],
    doc: 'client certificates on TLS listeners: none, requested (checked when given) or required',
  },
  'ssl.truststore.type': { kind: 'string', default: 'PEM', values: ['PEM'], doc: 'the truststore format: PEM only' },
  'ssl.truststore.location': {
    kind: 'string',
    default: '',
    doc: "a PEM CA bundle: checks client certificates and, between brokers, the peers' certificates; empty: the system CAs",
  },
  'ssl.endpoint.identification.algorithm': {
    kind: 'string',
    default: 'https',
    values: ['https', ''],
    doc: "between brokers: https checks the peer certificate's host name; empty: not checked",
  },
  'sasl.enabled.mechanisms': {
    kind: 'list',
    // Kafka's default is GSSAPI (Kerberos), which Sluice does not serve; SCRAM is the closest:
    // challenge-response, the password never crosses the wire. PLAIN must be enabled on purpose.
    default: 'SCRAM-SHA-256,SCRAM-SHA-512',
    values: saslMechanisms,
    doc: 'SASL mechanisms a SASL_PLAINTEXT or SASL_SSL listener accepts (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)',
  },
  'sasl.mechanism.inter.broker.protocol': {
    kind: 'string',
    default: 'SCRAM-SHA-512',
    values: saslMechanisms,
    doc: "the SASL mechanism this broker's own clients (replication, queue forwarding) authenticate with",
  },
  'sasl.inter.broker.username': {
    kind: 'string',
    default: '',
    doc: "the user this broker's own clients authenticate as on a SASL listener of another broker (Kafka: the listener's sasl.jaas.config)",
  },
  'sasl.inter.broker.password': {
    kind: 'string',
    default: '',
    doc: "that user's password",
  },
  'http.port': { kind: 'int', default: '8161', min: 0, max: portMax, doc: 'the admin HTTP API and console' },
  'http.host': { kind: 'string', default: '127.0.0.1', doc: 'the host the admin HTTP API binds to' },
  'http.ssl.keystore.location': {
    kind: 'string',
    default: '',
    doc: 'a PEM file with the private key and certificate chain: the admin API and console serve HTTPS; empty: HTTP',
  },
  'http.ssl.key.password': {
    kind: 'string',
    default: '',
    doc: "the password of http.ssl.keystore.location's private key, if encrypted",
  },
  'http.users.file': { kind: 'string', default: 'config/users.properties', doc: 'console and API users and roles' },
  'http.trusted.proxies': {
    kind: 'string',
    default: '',
    doc: 'reverse proxies whose X-Forwarded-For names the client (addresses, CIDR blocks, loopback); empty: none',
  },
  'queue.max.redeliveries': {
    kind: 'int',
    default: '6',
    min: -1,
    max: 1_000_000,
    doc: 'a message is dead-lettered after 1 + this many deliveries; -1: never',
  },
  'queue.lock.timeout.ms': {
    kind: 'int',
    default: '30000',
    min: 100,
    max: 86_400_000,
    doc: 'an unacknowledged message returns to the queue after this',
  },
  'queue.redelivery.delay.ms': {
    kind: 'int',
    default: '0',
    min: 0,
    max: 86_400_000,
    doc: 'a released message waits this long before its redelivery',
  },
  'queue.redelivery.backoff.multiplier': {
    kind: 'int',
    default: '1',
    min: 1,
    max: 100,
    doc: 'the redelivery delay grows by this factor per delivery',
  },
  'queue.redelivery.delay.max.ms': {
    kind: 'int',
    default: '60000',
    min: 0,
    max: 86_400_000,
    doc: 'the longest redelivery delay',
  },
  'queue.dead.letter.queue': { kind: 'string', default: '', doc: 'one shared dead-letter queue; empty: DLQ.<queue>' },
  'queue.expired.messages.dlq': {
    kind: 'bool',
    default: 'false',
    doc: 'expired messages are dead-lettered (false: dropped)',
  },
  'queue.replication.factor': {
    kind: 'int',
    default: '3',
    min: 1,
    max: 100,
    doc: "replicas of a queue's log (capped by the live brokers)",
  },
  'group.initial.rebalance.delay.ms': {
    kind: 'int',
    default: '3000',
    min: 0,
    max: 300_000,
    doc: "an empty group's first rebalance waits this long for more members",
  },
  'log.level': {
    kind: 'string',
    default: '',
    doc: 'pino level (trace, debug, info, warn, error, fatal, silent); empty: SLUICE_LOG_LEVEL or info',
  },
  'log.format': {
    kind: 'string',
    default: 'auto',
    values: logFormats,
    doc: 'log lines: json (one JSON object per line), pretty (human-readable, coloured on a terminal) or auto (pretty when stdout is a terminal, else json)',
  },
  // ---- ACLs (issue 17) ----
  'authorizer.enabled': {
    kind: 'bool',
    default: 'false',
    doc: "check every request against the ACLs (Kafka's AclAuthorizer); false: everyone may do everything",
  },
  'quota.window.num': {
    kind: 'int',
    default: '11',
    min: 2,
    max: 100,
    doc: "samples a client quota rate is measured over (Kafka's)",
  },
  'quota.window.size.seconds': {
    kind: 'int',
    default: '1',
    min: 1,
    max: 3600,
    doc: "seconds of one client quota sample (Kafka's)",
  },
  'quota.producer.default': {
    kind: 'int',
    default: '0',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: "producer_byte_rate of every client id without its own quota (Kafka 2.x's static default, the `<default>` client entity); 0: none",
  },
  'quota.consumer.default': {
    kind: 'int',
    default: '0',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    doc: "consumer_byte_rate of every client id without its own quota (Kafka 2.x's static default, the `<default>` client entity); 0: none",
  },
  'authorizer.class.name': {
    kind: 'string',
    default: '',
    doc: "Kafka's switch, accepted too: any non-empty value (kafka.security.authorizer.AclAuthorizer) enables the authorizer",
  },
  'super.users': {
    kind: 'string',
    default: '',
    doc: 'principals allowed everything, separated by ; (User:admin;User:broker); brokers need theirs here',
  },
  'allow.everyone.if.no.acl.found': {
    kind: 'bool',
    default: 'false',
    doc: 'with the authorizer on, a resource with no ACL at all is open to everyone',
  },
} satisfies Record<string, ConfigKeySpec>;

export type BrokerKey = keyof typeof configKeys;

/** The table's rows in order, each typed as a row (the table's own type keeps each row's literal types). */
export const configKeyRows: readonly (readonly [BrokerKey, ConfigKeySpec])[] = Object.entries(configKeys).map(
  ([key, spec]): [BrokerKey, ConfigKeySpec] => [key as BrokerKey, spec],
);

export interface TopicKeyRow {
  /** The topic-level key. */
  topic: string;
  /** The broker key whose value a topic without the override falls back to. */
  broker: BrokerKey;
  spec: ConfigKeySpec;
}

/** The rows that have a topic-level key, in table order. */
export const topicKeyRows: readonly TopicKeyRow[] = configKeyRows.flatMap(([broker, spec]) =>
  spec.topic === undefined ? [] : [{ topic: spec.topic, broker, spec }],
);

/** The broker key that sets `field` of every log's LogConfig. */
export function brokerKeyOfLogField(field: keyof LogConfig): BrokerKey {
  const row = configKeyRows.find(([, spec]) => spec.log === field);
  assert(row !== undefined, `no config key sets the LogConfig field ${field}`);
  return row[0];
}
