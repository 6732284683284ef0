/**
 * Every bound Sluice enforces, in one place. Units come last in the names.
 * Configuration is checked against these at start-up.
 */

/** RecordBatch v2 header size; no batch can be shorter. */
export const batchHeaderBytes = 61;
/** Largest single batch accepted on append (Kafka's message.max.bytes upper bound is far above this). */
export const batchBytesMax = 64 * 1024 * 1024;
/** Largest number of records one batch may claim. */
export const batchRecordsMax = 1 << 24;

export const segmentBytesMin = 1024;
export const segmentBytesMax = 2 ** 31 - 1;
export const indexIntervalBytesMin = 1;
/** Upper bound on one read's size. */
export const readBytesMax = 64 * 1024 * 1024;

/** Sparse index entries held in memory before they are written to LevelDB. */
export const indexPendingEntriesFlushAt = 1024;
/** When this many entries wait (writes lagging), appends wait for the index write. */
export const indexPendingEntriesMax = 16 * 1024;
/** Upper bound on header hops when scanning a segment from an index entry to the wanted offset. */
export const scanHopsMax = 1_000_000;

/** Largest gzip-inflated size of one compressed batch's records. */
export const decompressedBytesMax = 256 * 1024 * 1024;
/**
 * Largest input one zstd compression takes. The compressor (zstd-wasm) copies its input and output
 * into WebAssembly memory, which grows to fit and never shrinks: this bounds what one batch can make
 * the process keep (input + ZSTD_compressBound, about twice this). A produced batch is at most
 * batchBytesMax; only recompression into a zstd topic or the cleaner can meet larger records (a small
 * batch of another codec inflating up to decompressedBytesMax), and those are refused as too large.
 */
export const zstdCompressBytesMax = batchBytesMax;
/**
 * Largest window a zstd frame may ask the decoder for: 128 MiB (window log 27), the reference
 * library's default limit for streaming decoders (ZSTD_WINDOWLOG_LIMIT_DEFAULT), which Kafka's
 * clients decode with; their encoders use 2-8 MiB. The decoder (fzstd) allocates the window before
 * reading any block, so without this a frame of a few bytes could make it allocate 2 GB.
 */
export const zstdWindowBytesMax = 128 * 1024 * 1024;
/**
 * Most messages one produced v0/v1 message set (one partition of a Produce v0-v2) may hold. Each
 * becomes an object before the v2 batch is written, and a small gzip wrapper can inflate to
 * decompressedBytesMax of 26-byte messages (ten million); real producers send far fewer per
 * partition (librdkafka's batch.num.messages defaults to 10,000, the Java client batches 16 KB).
 */
export const legacyMessagesMax = 200_000;

/** Most partitions one topic may have. */
export const topicPartitionsMax = 10_000;
/**
 * Partition logs a broker opens at once (new or reopened); the rest wait their turn. A topic of
 * thousands of partitions used to open all of them together, every open's in-flight state
 * (files, index reads, recovery) live at the same moment: one CreateTopics of 8,000 partitions
 * (the fuzz long form sends one) took a broker from 134 to a 353 MiB RSS peak; 16 at a time,
 * 213 MiB. 16 still overlaps the opens' file and LevelDB waits.
 */
export const logOpensConcurrentMax = 16;
/**
 * Partition logs a broker loads (at start) or closes (at a clean stop) at once: enough to keep
 * LevelDB and the file system busy while each waits on them (the thread pool runs 4), few enough
 * that the in-flight state of each (a recovery's reads) stays small.
 */
export const logStartConcurrency = 32;

/**
 * Partition logs a start lists and reads the stored summaries of in one LevelDB read before
 * opening them (log-manager.ts): the names and summaries of this many are held at once.
 */
export const logStartPreloadBatch = 1000;
/**
 * A clean stop syncs a data directory's whole file system once (log-manager.ts syncBeforeClose)
 * when at least this many of its logs hold unflushed records; fewer fsync their own files (a few
 * fdatasyncs cost less than flushing whatever else the file system holds dirty).
 */
export const logStopSyncfsMin = 64;
/** How long that sync may take before the stop gives up on it and fsyncs log by log (a stuck disk). */
export const logStopSyncfsTimeoutMs = 60_000;
/**
 * Segment files open at once when log.open.files.max is 0 (its default): this share of the
 * process's open files limit (read from /proc/self/limits after Node raised the soft limit to the
 * hard one). Half, because the other half is what connections (max.connections is already
 * lowered to the limit less connectionFdReserve), LevelDB's table files, the admin API and the
 * cleaner's temporary files draw on; and a segment open that still meets EMFILE closes more
 * cached files and tries again (file-cache.ts). On a stock Linux hard limit (524,288 or more) the
 * cap is a quarter million files and never binds below that many partitions; under ulimit -n 4096
 * it is 2,048. Kafka has no such cap: it keeps every segment open and needs a limit to match.
 */
export const logOpenFilesShareOfLimit = 0.5;
/** The least the default cap comes to, however low the limit (a reopen per read below it would be all the broker did). */
export const logOpenFilesMin = 64;
/** The default cap where the limit cannot be read (no /proc) or is unlimited. */
export const logOpenFilesUnknownLimit = 4096;

/** Kafka's limit on topic name length. */
export const topicNameLengthMax = 249;

/** Longest a fetch may long-poll. */
export const fetchWaitMsMax = 30_000;
/** Requests one connection may have in flight before the broker stops reading from it. */
export const connectionInFlightMax = 256;
/** How long a clean shutdown waits for in-flight requests. */
export const shutdownDrainMsMax = 10_000;

// ---- request memory and connections (src/server) ----

/**
 * Default of queued.max.request.bytes: bytes of requests a broker holds at once,
 * being received or received and not yet answered, over all connections of both
 * listeners (Kafka's default is unbounded). 128 MiB keeps issue 14's attack (20
 * connections announcing 100 MiB frames) near 200 MiB RSS and leaves room for one
 * frame of the default socket.request.max.bytes (100 MiB) beside the small-request reserve.
 */
export const queuedRequestBytesDefault = 128 * 1024 * 1024;
export const queuedRequestBytesMin = 1024 * 1024;
export const queuedRequestBytesMax = 16 * 1024 * 1024 * 1024;
/**
 * One part in this many of queued.max.request.bytes is kept for small frames:
 * large frames together never take it, so stalled large frames cannot starve
 * ordinary produce and fetch requests. socket.request.max.bytes must fit in the rest.
 */
export const queuedRequestSmallReserveDivisor = 8;
/**
 * A frame of at most this many bytes (and at most the reserve) is small and may use the
 * reserve: fetches (a follower's too), metadata, heartbeats, offset commits and small
 * produce requests. Big produce batches cannot, so a flood of acks=-1 produce requests
 * waiting for replication never locks out the follower fetches that would answer them.
 */
export const queuedRequestSmallFrameBytesMax = 64 * 1024;
/**
 * Default of socket.request.read.timeout.ms: a frame must arrive whole within this
 * long of its first byte, or the connection is closed and its bytes released. Clients
 * give up on a request after 30 s (ours and Kafka's request.timeout.ms), so a frame
 * slower than that is one nobody waits for.
 */
export const frameReadTimeoutMsDefault = 30_000;
export const frameReadTimeoutMsMin = 10;
export const frameReadTimeoutMsMax = 3_600_000;
/**
 * Default of connection.failed.authentication.delay.ms (Kafka's: 100 ms): the answer
 * to a failed SASL authentication, and the close after it, wait this long, so a client
 * guessing passwords gets one guess per delay per connection. The upper bound keeps the
 * clear error ahead of a client's request.timeout.ms (30 s in Kafka's clients and ours):
 * a longer delay would turn it into a timeout. Connections waiting out the delay stay
 * open and count against max.connections, which bounds how many wait at once (Kafka's).
 */
export const failedAuthenticationDelayMsDefault = 100;
export const failedAuthenticationDelayMsMax = 25_000;
/**
 * How long a SASL authentication waits for the credential store's first load (a broker
 * whose listeners opened before its ZooKeeper session and /config/users were read).
 * Kafka's clients give a connection 10 s to set up (socket.connection.setup.timeout.ms,
 * kafkajs's authenticationTimeout): past 8 s the connection is dropped unanswered, which
 * they retry, rather than left to their own timeout.
 */
export const saslCredentialsLoadWaitMs = 8_000;
/** Default of connections.max.idle.ms (Kafka's: 10 minutes). */
export const connectionIdleMsDefault = 600_000;
export const connectionIdleMsMin = 10;
export const connectionIdleMsMax = 7 * 24 * 3_600_000;
/**
 * Default of max.connections, over both listeners. Each connection costs a file
 * descriptor and, when it is blocked waiting for request memory, up to about two
 * socket reads (64 KiB each) outside the pool; 4096 keeps that worst case at
 * 512 MiB and far below the 20,000 descriptors of this machine's limit (Kafka's default is unbounded).
 */
export const connectionsMaxDefault = 4096;
/** Default of max.connections.per.ip: one host (or one NAT address) gets a quarter of the broker's connections. */
export const connectionsPerIpMaxDefault = 1024;
export const connectionsMaxMax = 1_000_000;
/** File descriptors kept for segment files, LevelDB and the admin API when max.connections is checked against the process limit. */
export const connectionFdReserve = 1024;
/** How often, at most, a listener checks frame deadlines and idle connections. */
export const connectionSweepMsMax = 1_000;
export const connectionSweepMsMin = 10;
/** Warnings of one kind (a refused connection, a closed one) logged per window; the rest are counted in the next line. */
export const connectionWarningsPerWindow = 5;
export const connectionWarningWindowMs = 10_000;

// ---- client library ----

/** Requests one client connection keeps in flight by default, and the most it may be configured to. */
export const clientInFlightRequestsDefault = 5;
export const clientInFlightRequestsMax = 100;
/** Callers that may wait for an in-flight slot on one connection before requests are refused. */
export const clientRequestWaitersMax = 10_000;
/** Largest response frame a client accepts (a fetch is bounded by fetchMaxBytes well below this). */
export const clientResponseFrameBytesMax = 128 * 1024 * 1024;
export const clientConnectTimeoutMsDefault = 10_000;
export const clientRequestTimeoutMsDefault = 30_000;
/** Retries of one retriable operation (metadata, fetch, list offsets, a produce batch). */
export const clientRetriesDefault = 5;
export const clientRetriesMax = 1_000;
export const clientRetryBackoffMsDefault = 100;
export const clientRetryBackoffMsMax = 10_000;
/** Reconnect attempts after a broken connection before the client stops trying on its own. */
export const clientReconnectAttemptsDefault = 100;
export const clientReconnectAttemptsMax = 100_000;
export const clientReconnectDelayMsDefault = 100;
export const clientReconnectDelayMsMax = 30_000;
/** Metadata older than this is refreshed before use. */
export const clientMetadataMaxAgeMs = 300_000;
/** Polls of metadata while waiting for a new topic's leaders. */
export const clientLeaderWaitPollsMax = 100;

export const producerBatchBytesDefault = 16 * 1024;
export const producerBufferBytesDefault = 32 * 1024 * 1024;
export const producerBufferBytesMax = 1024 * 1024 * 1024;
/** Batches of several partitions share one request up to this size (one batch always fits). */
export const producerRequestBytesMax = 1024 * 1024;
/**
 * A producer's batch grows with the backlog up to this (batchSize is its floor): Kafka's
 * max.request.size default, and within the broker's default message.max.bytes (1 MiB + 12),
 * so a grown batch is not refused by a default broker (one that is refused as too large is
 * split back into batchSize batches). A batch larger than this only comes from a larger batchSize.
 */
export const producerBatchBytesGrowMax = 1024 * 1024;
/**
 * Bytes of free batch buffers a producer keeps for its next batches (records are written straight
 * into a batch's buffer; one answered is reused instead of allocated again): at most this much,
 * and at most a quarter of its buffer memory.
 */
export const producerFreeBatchBuffersBytesMax = 8 * 1024 * 1024;
/**
 * Bytes of batches a producer keeps in flight to one broker (one batch always goes): five of
 * the largest grown batches and more — enough to keep a broker's replication busy at acks -1 —
 * while a producer's buffer memory (32 MiB by default) is not all on the wire to one broker.
 */
export const producerInFlightBytesPerBroker = 8 * 1024 * 1024;
/**
 * Batches of one partition an idempotent producer keeps in flight at most: Kafka's rule
 * (max.in.flight.requests.per.connection ≤ 5 with idempotence), as a broker remembers the last
 * producerRecentBatchesMax batches of a producer to recognise a resent one.
 */
export const producerIdempotentInFlightPerPartitionMax = 5;
/**
 * Partitions one transaction of a transactional producer writes to at most (issue 21): the
 * client's side of the coordinator's bound on a transaction's partitions.
 */
export const producerTransactionPartitionsMax = 10_000;
/** A transactional producer's transactionTimeoutMs when none is given (Kafka's transaction.timeout.ms default). */
export const producerTransactionTimeoutMsDefault = 60_000;
/** How long send() waits for buffer memory before failing with Timeout (Kafka's max.block.ms). */
export const producerMaxBlockMsDefault = 60_000;
export const producerLingerMsMax = 60_000;
/**
 * Longest a partly filled batch waits for an answer to a request in flight
 * (the producer's Nagle: it gathers records meanwhile) when lingerMs is
 * shorter; an answer ends the wait sooner. Bounds the wait when every request
 * out went to a broker that is slow to answer.
 */
export const producerAnswerWaitMsMax = 20;
/** Senders waiting for buffer memory before send() is refused outright. */
export const producerMemoryWaitersMax = 100_000;
/** Messages in one send() call. */
export const producerMessagesPerSendMax = 1_000_000;

export const fetchMaxWaitMsDefault = 500;
export const fetchMaxBytesDefault = 16 * 1024 * 1024;
export const fetchPartitionMaxBytesDefault = 1024 * 1024;
/** Records one poll() returns at most; the rest stay buffered (bounded by one fetch's bytes). */
export const consumerPollRecordsMax = 10_000;

/** Partitions of the internal offsets topic (Kafka's offsets.topic.num.partitions default is 50). */
export const groupOffsetsPartitions = 50;
/** Longest metadata string stored with a committed offset (Kafka's offset.metadata.max.bytes). */
export const groupOffsetMetadataBytesMax = 4096;
/** Session timeouts a member may ask for (Kafka's group.min/max.session.timeout.ms). */
export const groupSessionTimeoutMsMin = 1000;
export const groupSessionTimeoutMsMax = 300_000;
/** Members one group may have (Kafka's group.max.size is unbounded; we bound it). */
export const groupMembersMax = 1000;
/** Groups one broker coordinates. */
export const groupsMax = 100_000;
/**
 * Pending transactional offsets (one per producer and partition, TxnOffsetCommit whose
 * transaction has not ended) one group may hold; Kafka has no bound. A commit past it is refused.
 */
export const groupPendingTxnOffsetsMax = 10_000;

// ---- consumer groups (client side) ----

export const groupSessionTimeoutMsDefault = 10_000;
/** How long the coordinator waits for members to rejoin; also how long a revocation waits for handlers. */
export const groupRebalanceTimeoutMsDefault = 60_000;
export const groupRebalanceTimeoutMsMax = 3_600_000;
/** Consecutive failed membership steps (join, sync, heartbeat) before the consumer gives up with the error. */
export const groupFailuresMax = 30;
/** Consecutive rejoins without reaching a stable generation before the consumer gives up. */
export const groupRejoinsMax = 1_000;
/** How often a regular-expression subscription looks for new matching topics. */
export const groupSubscriptionCheckMs = 5_000;
/** Topics one subscription may name or match. */
export const groupSubscribedTopicsMax = 10_000;
/** How long close() waits for the membership loop (an in-flight join) before leaving anyway. */
export const groupCloseWaitMsMax = 5_000;
export const consumerAutoCommitIntervalMsDefault = 1_000;
export const consumerAutoCommitIntervalMsMax = 3_600_000;
export const consumerPartitionsConcurrentlyMax = 1_000;
/** Seeks remembered for partitions not (yet) assigned to a group member. */
export const consumerPendingSeeksMax = 10_000;

/**
 * Segment size of the offsets topic (compacted): the cleaner rewrites closed segments only, so a
 * partition holds at most this much beyond its live offsets before it can be cleaned (Kafka's
 * offsets.topic.segment.bytes is 100 MiB; 1 MiB keeps 50 partitions' uncleaned tails at 50 MiB).
 */
export const groupOffsetsSegmentBytes = 1024 * 1024;
/** Tombstones per batch when a group's offsets are deleted. */
export const groupOffsetsTombstoneBatchRecords = 1000;

// ---- ZooKeeper coordination ----

/** Kafka's zookeeper.session.timeout.ms default. */
export const zookeeperSessionTimeoutMsDefault = 18_000;
/** How long start() waits for a ZooKeeper session (Kafka's zookeeper.connection.timeout.ms defaults to the session timeout). */
export const zookeeperConnectTimeoutMsDefault = 18_000;
/** How long createTopic/deleteTopic wait for the controller to act on the znodes they wrote. */
export const zookeeperTopicChangeWaitMs = 15_000;
/**
 * Config change notifications (/config/changes) the controller keeps: brokers read the config znodes
 * themselves, so only recent ones matter (Kafka purges them after 15 minutes); a count bounds the znodes.
 */
export const configChangeNotificationsKept = 100;
/** Beyond the session timeout, how long a restarted broker waits for its previous session's /brokers/ids/<id> to expire (ZooKeeper checks expiry once per tick). */
export const zookeeperRegistrationWaitMarginMs = 5_000;
/** While waiting for that old registration: how often it is looked at again besides its deletion watch. */
export const zookeeperRegistrationPollMs = 500;
/** Consecutive empty socket reads before the native ZooKeeper client gives a session up (its default is 10). */
export const zookeeperEmptyReadsMax = 1000;
/**
 * ZooKeeper requests one pass over many partitions (the controller's reconcile, a broker's reload of a
 * topic's partition states) keeps in flight at once: pipelined on the one session instead of one round
 * trip after another (10,000 partitions at RF 3 took minutes), and bounded so a pass never queues
 * thousands of requests (and their callbacks) at once.
 */
export const zookeeperRequestsInFlightMax = 64;
/** After a failed read of partition states (the connection dropped under it), when a broker reads them again. */
export const zookeeperRefreshRetryMs = 1000;

// ---- idempotent producer ----

/** Producers whose sequence state one partition keeps; the least recently used beyond this is forgotten. */
export const producerStatesPerPartitionMax = 10_000;
/** Recent batches remembered per producer and partition for duplicate detection (Kafka keeps 5). */
export const producerRecentBatchesMax = 5;
/** Bytes at the log's tail whose batch headers rebuild the producer state at open and after truncation. */
export const producerStateRebuildBytesMax = 256 * 1024 * 1024;
/** How often (at most) a partition drops producer states older than producer.id.expiration.ms. */
export const producerStateExpiryCheckMs = 60_000;
/** Kafka's producer.id.expiration.ms default (one day); the broker config key overrides it. */
export const producerIdExpirationMsDefault = 86_400_000;
// ---- transactions, partition side (issue 21) ----

/**
 * Open transactions one partition tracks (each holds the last stable offset back): a leader
 * refuses the first batch of one more transaction (CONCURRENT_TRANSACTIONS, which clients retry).
 */
export const openTxnsPerPartitionMax = 10_000;
/**
 * Transaction openings and closings a partition remembers to undo a truncation of its log's
 * tail; a truncation further back reads the transaction state again from the log.
 */
export const txnUndoEventsMax = 10_000;
/** Coordinator epochs a partition remembers per producer (the least recently used beyond this is forgotten). */
export const txnCoordinatorEpochsMax = 10_000;
/** Aborted transactions one fetch of a partition lists at most (Kafka lists all: a bound keeps the answer finite). */
export const abortedTxnsPerFetchMax = 10_000;
/**
 * Aborted transactions the log cleaner holds for one segment (to leave their batches out of
 * compaction); a segment overlapping more is not compacted past (log-cleaner.ts).
 */
export const cleanerAbortedTxnsPerSegmentMax = 10_000;
/**
 * Producers with a transaction under way that one cleaning pass tracks to find markers it may
 * remove (cleaner-markers.ts); past it, markers are kept.
 */
export const cleanerTxnProducersMax = 100_000;
/** Producer ids a broker reserves at once (persisted before any is handed out, so none is ever reused). */
export const producerIdBlockSize = 1000;
/** Attempts at a conditional update of /latest_producer_id_block before giving up (contention). */
export const producerIdBlockAttemptsMax = 1000;

// ---- replication ----

/** acks=-1 produce requests one partition lets wait for replication at once; more are refused. */
export const ackWaitersPerPartitionMax = 10_000;
/**
 * DeleteRecords requests one partition lets wait for its replicas' log starts at once; more are
 * refused (REQUEST_TIMED_OUT). Deleting records is an operator's act, seldom concurrent: far fewer than produces.
 */
export const deleteRecordsWaitersPerPartitionMax = 1_000;
/** How long a replica fetcher waits after an error before it tries its leader again when no backoff is configured. */
export const replicaFetchRetryMsMin = 50;
/** Request timeout of replica fetches, beyond their long-poll wait. */
export const replicaFetchRequestTimeoutMs = 10_000;
/**
 * Replica fetch sessions (KIP-227's idea) a leader holds at once, over all its follower connections
 * (one per connection; a session ends with its connection). A follower that finds none free gets none
 * and keeps sending full fetches.
 */
export const fetchSessionsMax = 1_000;
/** Partitions one replica fetch session holds at most; a follower beyond it loses its session (full fetches). */
export const fetchSessionPartitionsMax = 200_000;
/** OffsetForLeaderEpoch rounds one truncation may take before it starts over (each round walks back one epoch). */
export const replicaTruncationRoundsMax = 100;
/** How long an offset commit waits for the offsets partition's in-sync replicas (it is written with acks=-1). */
export const groupOffsetsCommitTimeoutMs = 10_000;

// ---- transaction coordinator (issue 21) ----

/** How long a __transaction_state record waits for its partition's in-sync replicas (written with acks=-1). */
export const txnStateWriteTimeoutMs = 10_000;
/** Partitions one transaction may hold (Kafka's is unbounded; each costs a marker). */
export const txnPartitionsMax = 10_000;
/** Transactional ids one coordinator holds in memory (an InitProducerId beyond it is refused). */
export const txnIdsMax = 100_000;
/** WriteTxnMarkers requests in flight to one partition leader at a time. */
export const txnMarkerInFlightPerBroker = 4;
/** Markers (producer × partitions) one WriteTxnMarkers request carries at most. */
export const txnMarkersPerRequestMax = 100;
/** Backoff between attempts to write a transaction's markers: doubled per failure from the first to the max. */
export const txnMarkerRetryBackoffMsMin = 100;
export const txnMarkerRetryBackoffMsMax = 5_000;
/**
 * How long a transaction coordinator holds a request for a transactional id whose previous
 * transaction is still being completed (its markers written) before answering
 * CONCURRENT_TRANSACTIONS: long enough for markers on live leaders, short next to a client's
 * request timeout.
 */
export const txnCompletionWaitMs = 5_000;
/** How long one WriteTxnMarkers request may take (the leader waits for its ISR) before it is retried. */
export const txnMarkerRequestTimeoutMs = 30_000;
/** Pause between attempts of a broker whose ZooKeeper session expired to open a new one and re-register. */
export const zookeeperRejoinBackoffMs = 1000;
/**
 * How long one controlled shutdown attempt waits for the controller to move
 * this broker's leaderships and ISR memberships away (one ZooKeeper write per
 * partition: a few hundred ms for thousands of partitions on loopback), before
 * the next attempt (controlled.shutdown.max.retries bounds them).
 */
export const controlledShutdownAttemptWaitMs = 2_000;
/** How often a broker in controlled shutdown looks whether it still leads something. */
export const controlledShutdownPollMs = 20;
/**
 * The silence bound of a broker the controller's probe has not heard from yet
 * (instead of controller.broker.probe.timeout.ms): brokers starting together,
 * TLS and SASL handshakes on a loaded machine take longer than a heartbeat's
 * worth, and a false fence costs an election. A refused connection counts at once.
 */
export const brokerProbeFirstAnswerGraceMs = 5_000;
/**
 * While a broker cannot reach ZooKeeper it asks its peers this often whether
 * its registration still exists (BrokerHeartbeat; registration-watch.ts): a
 * leader cut from ZooKeeper alone then stops leading within about this long
 * of its session's expiry, instead of when the cut heals. Each question is a
 * few bytes to one peer; answers wait at most the same time.
 */
export const registrationCheckIntervalMs = 200;
/** How long /readyz waits for the broker's own listener to answer ApiVersions (connect, then answer). */
export const readinessProbeTimeoutMs = 2000;
/** Default retries of an idempotent producer: with the capped exponential backoff about two minutes. */
export const producerIdempotentRetriesDefault = 20;
/** How long a client tries a broker last for metadata after its connection broke or a request timed out. */
export const clientSuspectBrokerMs = 30_000;

// ---- queues ----

/** Queue consumers one connection may register (each adds a close listener). */
export const connectionCloseListenersMax = 1000;
/** Messages a queue's dispatcher keeps decoded in memory ahead of the acknowledged floor. */
export const queueWindowRecordsMax = 10_000;
/** Bytes of message values and keys the dispatcher keeps decoded at most. */
export const queueWindowBytesMax = 32 * 1024 * 1024;
/** Consumers one queue serves at once. */
export const queueConsumersMax = 1000;
/** Long-polling QueueFetch requests one queue lets wait at once. */
export const queueFetchWaitersMax = 10_000;
/** Messages one QueueFetch may return, and one QueueSend may carry. */
export const queueBatchMessagesMax = 10_000;
/** Longest QueueFetch long poll. */
export const queueFetchWaitMsMax = 30_000;
/** Segment size of queue logs: small, so consumed segments are deleted soon. */
export const queueSegmentBytes = 16 * 1024 * 1024;
/** Messages browse returns by default and at most. */
export const queueBrowseDefault = 100;
export const queueBrowseMax = 10_000;
/** How long a broker-to-broker queue request (dead-lettering, redrive) may take, retries included. */
export const queuePeerRequestTimeoutMs = 15_000;
/** Messages waiting in one queue at most (light entries in memory); QueueSend refuses beyond (flow control). */
export const queuePendingMax = 1_000_000;
/**
 * Open (unresolved) transactions one queue holds at once: producers whose transactional
 * QueueSend is written and whose commit/abort marker is not (issue 21). QueueSend refuses a new
 * one beyond; the producers' sequence numbers on the queue's log are remembered for as many.
 */
export const queueOpenTxnsMax = 1000;
/** Offsets one state record lists at most. */
export const queueStateFlushRecordsMax = 10_000;
/** Bytes a queue dispatcher reads (and decodes) from its log at once for deliveries. */
export const queueReadBytes = 256 * 1024;
/** Batches of one partition a producer has in flight by default, and at most. */
export const producerInFlightPerPartitionDefault = 5;
export const producerInFlightPerPartitionMax = 100;
/** A consumer fetches the next round in the background while fewer records than this are buffered. */
export const consumerPrefetchRecordsMax = 50_000;
/**
 * ... and while fewer fetched bytes than this are buffered (a fetch ahead from an answer: half). At
 * 1 KiB records 50,000 records held 50 MiB of fetch frames ahead; frames held that long survive two
 * scavenges, are promoted, and V8's external-memory limit then ran a mark-compact every few frames.
 */
export const consumerPrefetchBytesMax = 4 * 1024 * 1024;

// ---- admin HTTP logins (session login and Basic auth on every route) ----

/** Delay after a user's or address's first failed login; it doubles with each further failure up to the max. */
export const loginFailureDelayMsMin = 100;
export const loginFailureDelayMsMax = 3_200;
/** A failure count halves for each such period without a new failure (so the delay decays once attacks stop). */
export const loginFailureQuietMs = 60_000;
/** Addresses whose failure counts are remembered; the one that failed least recently is forgotten beyond this. */
export const loginFailureAddressesMax = 10_000;
/** Attempts waiting for one user's password check; when full, the address with the most of them loses one. */
export const loginWaitersPerUserMax = 8;
/** Attempts waiting for one address's lane; beyond it an attempt goes on without it (the user's lane still holds). */
export const loginWaitersPerAddressMax = 64;
/** Address lanes in use at once; beyond it an attempt from a new address goes on without one. */
export const loginAddressLanesMax = 10_000;
/** scrypt password checks running at once broker-wide (each takes ~50 ms of one core and 16 MiB). */
export const loginChecksConcurrentMax = 2;
/** Failed logins for unknown users whose 401 is held back for the address's delay at once; beyond it, answered at once. */
export const loginTarpitsMax = 1_000;
/** Login warnings and notices logged per second; beyond it they are counted in one summary line. */
export const loginLogLinesPerSecondMax = 20;

/**
 * Records `sluice perf produce --verify` (and the checker it shares with the
 * chaos suite) keeps an acknowledgement for: 12 bytes each in typed arrays
 * allocated once, so at most 120 MB.
 */
export const perfVerifyRecordsMax = 10_000_000;

/** Distinct keys `sluice perf produce --keys` cycles through: their buffers and chunks are built up front. */
export const perfKeysMax = 1_000_000;

// ---- request validation (src/protocol/native/request-shapes.ts) ----

/** Longest text field of a native request (Kafka's STRING has an int16 length); names are checked further by the domain. */
export const requestStringLengthMax = 32_767;
/** Characters of the client id a group member id starts with (the id must stay a Kafka STRING; Kafka's ids are clientId-UUID). */
export const memberIdClientIdCharsMax = 200;
/** Items of a list in a native request that no narrower bound covers (topics, groups, protocols, headers). */
export const requestListItemsMax = 100_000;
/** Entries of a config map in a native request (a topic has a few dozen config keys). */
export const requestConfigEntriesMax = 1_000;
/** Refused-request warnings the broker logs per interval; beyond that it counts them and logs one summary line. */
export const refusedRequestWarningsPerInterval = 20;
export const refusedRequestWarningIntervalMs = 10_000;
/** msgpack values one native request may hold (each decodes to a JavaScript value: bounds a frame's amplification). */
export const requestMsgpackItemsMax = 500_000;
/**
 * Partitions one client request names at most (Fetch, ListOffsets, OffsetCommit, OffsetFetch):
 * more are split over several requests to the same broker (client/request-chunks.ts), so none
 * exceeds requestMsgpackItemsMax, which the broker enforces by closing the connection. A Fetch
 * partition entry, the costliest, is 7 msgpack values (a map of partition, fetchOffset and
 * partitionMaxBytes: the map, 3 keys, 3 values) and its topic entry 5 more (map, 2 keys, name,
 * list) when every partition is of another topic: 12 x 40,000 = 480,000, which leaves 20,000
 * values for the request's header and group fields. ListOffsets and OffsetCommit entries cost 5,
 * OffsetFetch's 1.
 */
export const clientRequestPartitionsMax = Math.floor((requestMsgpackItemsMax - 20_000) / 12);
/** Nesting of a native request's msgpack (request shapes need fewer than 10 levels; msgpackr recurses per level). */
export const requestMsgpackDepthMax = 32;

// ---- partition reassignment (src/coordination/zookeeper/reassignment.ts), issue 16 ----

/**
 * State-znode watches the controller holds for partitions under reassignment
 * (one each; ZooKeeper keeps every watch in the server's memory). Beyond it a
 * reassignment still completes, at the next broker change or controller
 * check; 10 000 is more partitions than a Sluice cluster moves at once.
 */
export const reassignmentWatchesMax = 10_000;
/** How often the controller looks at every ongoing reassignment besides its watches (a missed event costs this); it reads only the topics known to have one, none at idle. */
export const reassignmentCheckIntervalMs = 5_000;
/** Partitions one AlterPartitionReassignments request may name (each costs ZooKeeper writes on the controller). */
export const reassignmentPartitionsPerRequestMax = 10_000;

// ---- log cleaner (src/storage/log-cleaner.ts) ----

/**
 * Bytes the log cleaner's key → latest-offset map may hold (Kafka's log.cleaner.dedupe.buffer.size,
 * 128 MiB by default, which is also ours): a dirty part with more distinct keys is cleaned in
 * several passes, each up to where the map filled.
 */
export const cleanerDedupeBufferBytesDefault = 128 * 1024 * 1024;
/**
 * What one map entry costs beyond its key's bytes (a JavaScript Map entry keyed by a string:
 * the string header, the hash-table slot and the number), so the bound is on real memory.
 */
export const cleanerMapEntryOverheadBytes = 64;
/**
 * Milliseconds of synchronous work the log cleaner does before it lets the event loop run (appends,
 * fetches): an append waits at most about this long behind the cleaner, which still spends most
 * of its time cleaning.
 */
export const cleanerSliceMs = 4;
/** Partitions the broker's cleaner loop cleans at once (log.cleaner.threads' upper bound). */
export const cleanerConcurrentLogsMax = 16;

// ---- ACLs (issue 17) ----
/**
 * ACL change notifications (/kafka-acl-changes, /kafka-acl-extended-changes) a writer keeps: brokers
 * reload the whole ACL cache on any new one, so only their appearance matters (Kafka purges them after
 * 15 minutes); a count bounds the znodes.
 */
export const aclChangeNotificationsKept = 100;
/** ACL bindings one CreateAcls request may carry, and filters one DeleteAcls may: bounds the work of one request. */
export const aclBindingsPerRequestMax = 1_000;
/** ACLs the broker keeps in total: every request's authorization scans the cache, so it stays bounded. */
export const aclBindingsMax = 10_000;
/** Authorization denials logged per window before they are summarized (a client retrying a denied request must not flood the log). */
export const aclDenialLogLinesPerWindow = 20;
export const aclDenialLogWindowMs = 60_000;
// ---- SASL and SCRAM (src/security/scram.ts, issue 17) ----

/**
 * Bytes one SASL message (a PLAIN message, a SCRAM client-first or client-final) may have.
 * Those messages carry a user name, a nonce, a proof and for PLAIN a password: a few hundred
 * bytes. Kafka bounds a SASL receive at 512 KiB (sasl.server.max.receive.size) for OAUTHBEARER
 * tokens, which Sluice does not serve; 4 KiB leaves room for long names and passwords and no more.
 */
export const saslMessageBytesMax = 4096;
/** Bytes of a user name with SCRAM credentials (a ZooKeeper znode name under /config/users). */
export const scramUserNameBytesMax = 1024;
/** Kafka's ScramMechanism minimum iterations (both SHA-256 and SHA-512): RFC 7677 asks for at least 4096. */
export const scramIterationsMin = 4096;
/** Kafka's AlterUserScramCredentials upper bound (16384): PBKDF2 work per authentication stays bounded. */
export const scramIterationsMax = 16_384;
/** Kafka's default iteration count (kafka-configs --add-config 'SCRAM-SHA-256=[password=...]'). */
export const scramIterationsDefault = 4096;
/**
 * Console users whose failed logins are tracked one by one (login-guard.ts): the users now live in the
 * SCRAM store, whose size the console does not bound, so its per-user state has its own bound.
 */
export const consoleUsersTrackedMax = 10_000;
/** Users one DescribeUserScramCredentials/AlterUserScramCredentials request may name. */
export const scramUsersPerRequestMax = 1000;
/**
 * Rate windows the client quota tracker keeps (one per quota key and client
 * entity, ~200 bytes each): the least recently used is dropped beyond this,
 * which only forgets that client's recent usage.
 */
export const clientQuotaWindowsMax = 10_000;
/** Client quota entities one AlterClientQuotas/DescribeClientQuotas request may name. */
export const clientQuotaEntriesMax = 1000;
/**
 * Nested async callbacks the request timer (server/request-time.ts) tracks: async_hooks nest only
 * as deep as synchronous callbacks do (a few); beyond this the stack is dropped (a bug's symptom, not a real depth).
 */
export const requestTimeNestingMax = 1000;

/**
 * Bytes past a corrupt batch searched for the next valid one (storage/corrupt-range.ts) before a
 * reader is sent on to the next segment: the search runs on the event loop (~50 ms for 8 MiB), and
 * batches are far denser than that (an index entry every log.index.interval.bytes).
 */
export const corruptResyncScanBytesMax = 8 * 1024 * 1024;
/** Corrupt places per partition whose next readable offset is remembered, so a retrying reader does not search again. */
export const corruptRangesRememberedMax = 16;
/**
 * Bytes a full log directory's probe writes (and fsyncs, then deletes) before a partition takes
 * writes again: the size of the write the disk refused, at most this. 1 MiB (Kafka's default
 * message.max.bytes) proves room for a typical batch; a probe never allocates more.
 */
export const diskFullProbeBytesMax = 1024 * 1024;

/**
 * Records one console search (GET /api/messages/search) reads before it answers: the scan runs
 * in the broker's own HTTP process over its native listener (~100k records/s), so 10,000 keeps a
 * search near 0.1 s and its memory to one poll; the answer says how many it scanned and where to go on.
 */
export const messageSearchScanMax = 10_000;
/** Records one poll of a console search asks for (the scan's memory at a time). */
export const messageSearchPollMax = 500;
/**
 * Groups GET /api/groups describes for members and total lag (one DescribeGroups and
 * OffsetFetch each): past this the list still names every group, with members and lag null.
 */
export const consoleGroupsDescribedMax = 200;
