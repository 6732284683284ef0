/**
 * `sluice produce TOPIC`: one record per stdin line, read as a stream: one
 * stdin chunk of lines is sent and acknowledged before the next is read, so
 * memory stays bounded however long the input is; at EOF the producer is
 * flushed and the command exits 0.
 */
import type { Command } from 'commander';
import type { ProducerMessage } from '../client/types.js';
import { topicPartitionsMax } from '../shared/limits.js';
import { badValue, parseAcks, parseInteger } from './cli-args.js';
import { explainUnknownTopic, globalsOf, withClient } from './cli-client.js';
import { readLineBatches } from './line-reader.js';

/** A line is one record: Kafka's default max.request.size. */
const lineBytesMax = 1024 * 1024;
/** Lines handed to one send() call. */
const batchLinesMax = 1_000;

interface ProduceOptions {
  keySeparator?: string;
  acks: string;
  partition?: string;
}

function toMessages(lines: string[], firstLine: number, separator: string | undefined, partition?: number) {
  const messages: ProducerMessage[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    let message: ProducerMessage;
    if (separator === undefined) {
      message = { value: line };
    } else {
      const at = line.indexOf(separator);
      if (at < 0) throw badValue(`no key separator '${separator}' on stdin line ${firstLine + i}`);
      message = { key: line.slice(0, at), value: line.slice(at + separator.length) };
    }
    if (partition !== undefined) message.partition = partition;
    messages.push(message);
  }
  return messages;
}

export function registerProduceCommand(root: Command): void {
  root
    .command('produce')
    .description('send one record per stdin line to TOPIC; flushes and exits at EOF')
    .argument('<topic>', 'topic name')
    .option('--key-separator <sep>', 'the text before the first SEP on a line is the record key')
    .option('--acks <acks>', 'acknowledgement: 0, 1, -1 or all', '-1')
    .option('--partition <n>', 'send every record to partition N')
    .action(async (topic: string, opts: ProduceOptions, cmd: Command) => {
      const acks = parseAcks(opts.acks);
      const partition =
        opts.partition === undefined
          ? undefined
          : parseInteger(opts.partition, '--partition', 0, topicPartitionsMax - 1);
      const separator = opts.keySeparator;
      if (separator !== undefined && separator.length === 0) throw badValue('--key-separator must not be empty');

      await withClient(globalsOf(cmd), async (sluice) => {
        const producer = sluice.producer({ acks, lingerMs: 0 });
        try {
          let lineNumber = 1;
          for await (const lines of readLineBatches(process.stdin, { lineBytesMax, batchLinesMax })) {
            const messages = toMessages(lines, lineNumber, separator, partition);
            lineNumber += lines.length;
            // One send() at a time: concurrent send() calls may interleave their records
            // within a partition, and the order of lines must be the order in the log.
            await producer.send({ topic, messages });
          }
          await producer.flush();
        } catch (err) {
          throw await explainUnknownTopic(sluice, topic, err);
        } finally {
          await producer.close();
        }
      });
    });
}
