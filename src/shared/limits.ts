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

/** Kafka's limit on topic name length. */
export const topicNameLengthMax = 249;
