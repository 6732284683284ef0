/**
 * Blocks of producer ids from ZooKeeper, with Kafka's znode and JSON:
 *
 *   /latest_producer_id_block   {"version":1,"broker":<id>,"block_start":"<n>","block_end":"<n>"}
 *
 * (numbers as strings, block_end inclusive, as Kafka writes them). A broker
 * reads the latest block and claims the next one with a set conditional on the
 * znode's version; a concurrent claim makes the set fail with BadVersion and
 * the loser reads again. The first claim creates the znode (NodeExists: read
 * again). So no two brokers ever get overlapping blocks, and a block once
 * claimed is never handed out again, whatever crashes.
 */
import { ErrorCode, SluiceError } from '../../shared/errors.js';
import { producerIdBlockAttemptsMax } from '../../shared/limits.js';
import { isZkError, type ZkClient, ZkCode } from './zk-client.js';

export const producerIdBlockPath = '/latest_producer_id_block';

export interface ProducerIdBlockZnode {
  version: 1;
  broker: number;
  block_start: string;
  block_end: string;
}

/** Ids [start, end], both inclusive (Kafka's block). */
export interface ProducerIdBlock {
  start: number;
  end: number;
}

function parseBlock(data: string): ProducerIdBlock {
  let znode: Partial<ProducerIdBlockZnode>;
  try {
    znode = JSON.parse(data) as Partial<ProducerIdBlockZnode>;
  } catch {
    znode = {};
  }
  const start = Number(znode.block_start);
  const end = Number(znode.block_end);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new SluiceError(ErrorCode.BrokerError, `${producerIdBlockPath} holds an invalid block: ${data}`);
  }
  return { start, end };
}

function blockJson(brokerId: number, block: ProducerIdBlock): string {
  const znode: ProducerIdBlockZnode = {
    version: 1,
    broker: brokerId,
    block_start: String(block.start),
    block_end: String(block.end),
  };
  return JSON.stringify(znode);
}

/** Claims the next block of `blockSize` producer ids for `brokerId`. */
export async function allocateProducerIdBlock(
  zk: ZkClient,
  brokerId: number,
  blockSize: number,
): Promise<ProducerIdBlock> {
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) {
    throw new SluiceError(ErrorCode.InvalidArgument, `a producer id block needs a positive size, not ${blockSize}`);
  }
  for (let attempt = 0; attempt < producerIdBlockAttemptsMax; attempt++) {
    const current = await zk.get(producerIdBlockPath);
    const start = current ? parseBlock(current.data).end + 1 : 0;
    const block = { start, end: start + blockSize - 1 };
    if (!Number.isSafeInteger(block.end)) {
      throw new SluiceError(ErrorCode.BrokerError, 'producer ids are exhausted');
    }
    try {
      if (current) await zk.set(producerIdBlockPath, blockJson(brokerId, block), current.version);
      else await zk.create(producerIdBlockPath, blockJson(brokerId, block), 'persistent');
      return block;
    } catch (err) {
      // another broker claimed a block between our read and our write: read again
      const raced =
        isZkError(err, ZkCode.BadVersion) || isZkError(err, ZkCode.NodeExists) || isZkError(err, ZkCode.NoNode);
      if (!raced) throw err;
    }
  }
  throw new SluiceError(
    ErrorCode.Timeout,
    `no producer id block after ${producerIdBlockAttemptsMax} attempts (every conditional update lost to another broker)`,
  );
}
