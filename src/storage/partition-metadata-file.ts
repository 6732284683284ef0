/**
 * `partition.metadata` in a partition's directory, Kafka's file (KIP-516):
 *
 *   version: 0
 *   topic_id: <22 characters of URL-safe base64>
 *
 * It ties the directory to one life of its topic. A broker that was down
 * while the topic was deleted and created again under the same name still
 * has the old directory; the id in it differs from the topic's current one,
 * so the old records are deleted instead of being served as the new topic's.
 * Written to a temporary file, synced and renamed, so a crash leaves the old
 * file or the new one, never half of one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, SluiceError } from '../shared/errors.js';

export const partitionMetadataFileName = 'partition.metadata';
const version = 0;
/** Far larger than the file ever is; a bigger one is not ours. */
const maxFileBytes = 1024;

/**
 * The topic id recorded in `dir`, or undefined when the directory has no partition.metadata (yet).
 * One open, one read of at most one byte more than allowed (which tells a file that is too large),
 * one close: a start reads one per partition.
 */
export function readPartitionTopicId(dir: string): string | undefined {
  const file = path.join(dir, partitionMetadataFileName);
  let text: string;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const buf = Buffer.alloc(maxFileBytes + 1);
    const bytesRead = fs.readSync(fd, buf, 0, buf.length, 0);
    if (bytesRead > maxFileBytes) throw bad(file, 'is too large');
    text = buf.toString('utf8', 0, bytesRead);
  } finally {
    fs.closeSync(fd);
  }
  return parseTopicId(file, text);
}

/**
 * readPartitionTopicId off the event loop: the open, read and close on the thread pool (callbacks,
 * not promises: a start reads one per partition). A start of 10,000 partitions spent about a second
 * of its main thread in the synchronous calls (issue 20 item 4); the log manager reads a batch of
 * partitions' files together while it opens the batch before them.
 */
export function readPartitionTopicIdAsync(dir: string): Promise<string | undefined> {
  const file = path.join(dir, partitionMetadataFileName);
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (openErr, fd) => {
      if (openErr) {
        if (openErr.code === 'ENOENT') resolve(undefined);
        else reject(openErr);
        return;
      }
      const buf = Buffer.alloc(maxFileBytes + 1);
      fs.read(fd, buf, 0, buf.length, 0, (readErr, bytesRead) => {
        fs.close(fd, (closeErr) => {
          try {
            if (readErr) throw readErr;
            if (closeErr) throw closeErr;
            if (bytesRead > maxFileBytes) throw bad(file, 'is too large');
            resolve(parseTopicId(file, buf.toString('utf8', 0, bytesRead)));
          } catch (err) {
            reject(err);
          }
        });
      });
    });
  });
}

function parseTopicId(file: string, text: string): string {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw bad(file, `has a line without a colon: ${line.slice(0, 60)}`);
    fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (fields.get('version') !== String(version))
    throw bad(file, `has version ${fields.get('version')}, not ${version}`);
  const id = fields.get('topic_id');
  if (id === undefined || !/^[A-Za-z0-9_-]{22}$/.test(id)) throw bad(file, `has no valid topic_id`);
  return id;
}

/** Records `topicId` in `dir` (durably: written, synced, renamed into place, directory synced). */
export function writePartitionTopicId(dir: string, topicId: string): void {
  const file = path.join(dir, partitionMetadataFileName);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `version: ${version}\ntopic_id: ${topicId}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

/**
 * writePartitionTopicId off the event loop: the same steps, the two fsyncs on the thread pool. A
 * creation of thousands of partitions spent most of its time blocked in those fsyncs, one
 * partition after another (45 of 95 s of a broker's CPU profile creating 25,000; issue 20 item 5);
 * the log manager's opens now overlap them.
 */
export async function writePartitionTopicIdAsync(dir: string, topicId: string): Promise<void> {
  const file = path.join(dir, partitionMetadataFileName);
  const tmp = `${file}.tmp`;
  const handle = await fs.promises.open(tmp, 'w');
  try {
    await handle.writeFile(`version: ${version}\ntopic_id: ${topicId}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, file);
  const dirHandle = await fs.promises.open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

function bad(file: string, what: string): SluiceError {
  return new SluiceError(ErrorCode.StorageError, `${file} ${what}`);
}
