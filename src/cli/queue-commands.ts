/**
 * `sluice queue send|receive|browse|stats|purge` and `sluice dlq list|redrive`:
 * JMS-style queues (after ActiveMQ's activemq-admin and the console tools).
 *
 * - send reads one message per stdin line as a stream; each stdin chunk of
 *   lines (at most 1,000 lines, ~1 MiB) goes as one atomic batch, one write
 *   like a transaction's commit (the seed's advice for fast persistent sends),
 *   acknowledged before the next is read, so memory stays bounded; it prints
 *   nothing on success, like `produce`.
 * - receive takes messages until --max-messages or until --timeout-ms passes
 *   without one, printing values one per line or, with --json, the
 *   CONTRACT's message objects. Each is acknowledged as it is printed (JMS
 *   receive() in auto-acknowledge mode), except that the last `prefetch`
 *   before --max-messages are acknowledged once nothing more is needed, so
 *   the receiver never acquires messages it would hand back unprinted (with
 *   their delivery count raised).
 * - browse prints the waiting messages without consuming them.
 * - stats prints {"queue","depth","inFlight","consumers","enqueued","dequeued","deadLettered"}
 *   (one object for NAME, an array without) or a table.
 */
import type { Command } from 'commander';
import { queuePrefetchDefault, queuePrefetchMax } from '../client/queue-consumer.js';
import type { DeadLetterQueueInfo, QueueMessage, QueueStatistics } from '../client/types.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { queueBrowseMax } from '../shared/limits.js';
import { badValue, parseInteger } from './cli-args.js';
import { globalsOf, withClient } from './cli-client.js';
import { flushStdout, formatTable, isStdoutClosed, queueMessageJson, writeLine } from './cli-output.js';
import { readLineBatches } from './line-reader.js';

/** A line is one message: Kafka's default max.request.size. */
const lineBytesMax = 1024 * 1024;
/** Lines read into one batch at most. */
const batchLinesMax = 1_000;
/** Bytes of message values in one send batch at most (one line may exceed it alone). */
const batchBytesMax = 1024 * 1024;
/** Longest one receive() waits, so the idle timeout and signals are noticed promptly. */
const receiveWaitMsMax = 500;
const maxMessagesMax = Number.MAX_SAFE_INTEGER;
const timeoutMsMax = 24 * 3600 * 1000;
/** Messages one browse shows unless told otherwise (the broker returns at most queueBrowseMax). */
const browseMessagesDefault = 1_000;

interface ReceiveOptions {
  maxMessages?: string;
  prefetch?: string;
  timeoutMs?: string;
  json?: boolean;
}

function checkQueueName(name: string): string {
  if (name.trim().length === 0) throw badValue('a queue name must not be empty');
  return name;
}

/** `lines` cut into runs whose values total at most batchBytesMax bytes (each run has at least one line). */
function batches(lines: string[]): string[][] {
  const out: string[][] = [];
  let run: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8');
    if (run.length > 0 && bytes + size > batchBytesMax) {
      out.push(run);
      run = [];
      bytes = 0;
    }
    run.push(line);
    bytes += size;
  }
  if (run.length > 0) out.push(run);
  return out;
}

const statsJson = (s: QueueStatistics): QueueStatistics => ({
  queue: s.queue,
  depth: s.depth,
  inFlight: s.inFlight,
  consumers: s.consumers,
  enqueued: s.enqueued,
  dequeued: s.dequeued,
  deadLettered: s.deadLettered,
});

function statsTable(stats: QueueStatistics[]): string {
  return formatTable(
    ['QUEUE', 'DEPTH', 'IN-FLIGHT', 'CONSUMERS', 'ENQUEUED', 'DEQUEUED', 'DEAD-LETTERED'],
    stats.map((s) => [
      s.queue,
      String(s.depth),
      String(s.inFlight),
      String(s.consumers),
      String(s.enqueued),
      String(s.dequeued),
      String(s.deadLettered),
    ]),
  );
}

/**
 * Acknowledgements of printed messages, sent as they come (the receiver
 * batches them) and awaited together at the end: a failed one means the
 * message was printed but will be delivered again.
 */
class AckTracker {
  private readonly pending = new Set<Promise<void>>();
  private failures = 0;
  private firstError: unknown;

  ack(message: QueueMessage): void {
    const p: Promise<void> = message
      .ack()
      .catch((err: unknown) => {
        this.failures++;
        this.firstError ??= err;
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async settled(queue: string): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.failures === 0) return;
    const reason = this.firstError instanceof Error ? this.firstError.message : String(this.firstError);
    throw new SluiceError(
      isSluiceError(this.firstError) ? this.firstError.code : ErrorCode.BrokerError,
      `${plural(this.failures, 'printed message')} of queue '${queue}' could not be acknowledged and will be delivered again: ${reason}`,
      { cause: this.firstError },
    );
  }
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function registerQueueCommands(root: Command): void {
  const queue = root.command('queue').description('send, receive, browse, inspect and purge JMS-style queues');

  queue
    .command('send')
    .description('send one persistent message per stdin line to queue NAME; exits at EOF')
    .argument('<name>', 'queue name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      checkQueueName(name);
      await withClient(globalsOf(cmd), async (sluice) => {
        const q = sluice.queue(name);
        for await (const lines of readLineBatches(process.stdin, { lineBytesMax, batchLinesMax })) {
          // one atomic batch per run of lines (all written or none, in order); the next
          // run is read only after this one is acknowledged: bounded memory, order kept
          for (const run of batches(lines)) await q.sendBatch(run.map((value) => ({ value })));
        }
      });
    });

  queue
    .command('receive')
    .description('receive (and acknowledge) messages of queue NAME, printing their values')
    .argument('<name>', 'queue name')
    .option('--max-messages <n>', 'stop after N messages')
    .option(
      '--prefetch <n>',
      `unacknowledged messages held at most (default ${queuePrefetchDefault}; 1 = fair dispatch, 0 = fetch only while waiting)`,
    )
    .option('--timeout-ms <t>', 'stop when no message arrives for T ms')
    .option('--json', 'print one JSON message object per line')
    .action(async (name: string, opts: ReceiveOptions, cmd: Command) => {
      checkQueueName(name);
      const maxMessages =
        opts.maxMessages === undefined
          ? undefined
          : parseInteger(opts.maxMessages, '--max-messages', 1, maxMessagesMax);
      const prefetchAsked =
        opts.prefetch === undefined
          ? queuePrefetchDefault
          : parseInteger(opts.prefetch, '--prefetch', 0, queuePrefetchMax);
      const timeoutMs =
        opts.timeoutMs === undefined ? undefined : parseInteger(opts.timeoutMs, '--timeout-ms', 1, timeoutMsMax);
      // a receiver holds at most `prefetch` messages; more than is left to print would only go back
      const prefetch = Math.min(prefetchAsked, maxMessages ?? prefetchAsked);

      await withClient(globalsOf(cmd), async (sluice) => {
        // the receiver retries a broker it cannot reach for as long as it lives (receive() just
        // returns null): one admin request first reports an unreachable broker as an error
        await sluice.admin().queueStats(name);
        const receiver = sluice.queue(name).receiver({ prefetch, ackMode: 'client' });
        const acks = new AckTracker();
        /** Printed messages whose acknowledgement waits: the last `prefetch` before --max-messages (see below). */
        let deferred: QueueMessage[] = [];
        const ackDeferred = (): void => {
          for (const m of deferred) acks.ack(m);
          deferred = [];
        };
        let stopping = false;
        const stop = (): void => {
          stopping = true;
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          let printed = 0;
          let lastMessageAt = Date.now();
          while (!stopping && !isStdoutClosed()) {
            if (maxMessages !== undefined && printed >= maxMessages) break;
            let message = await receiver.receive(0);
            if (!message) {
              // nothing buffered: no printed message stays unacknowledged while this waits
              ackDeferred();
              const waitMs =
                timeoutMs === undefined
                  ? receiveWaitMsMax
                  : Math.max(1, Math.min(receiveWaitMsMax, lastMessageAt + timeoutMs - Date.now()));
              message = await receiver.receive(waitMs);
            }
            if (message) {
              lastMessageAt = Date.now();
              await writeLine(
                opts.json ? JSON.stringify(queueMessageJson(name, message)) : (message.value?.toString('utf8') ?? ''),
              );
              printed++;
              // The receiver tops its prefetch up as acknowledgements free room: acknowledging the
              // last `prefetch` messages before --max-messages only at the end keeps it from
              // acquiring messages this command will not print (they would go back on close with
              // their delivery count raised, as if redelivered).
              if (maxMessages !== undefined && maxMessages - printed < prefetch) deferred.push(message);
              else acks.ack(message);
            } else if (timeoutMs !== undefined && Date.now() - lastMessageAt >= timeoutMs) {
              break;
            }
          }
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          // acknowledged and closed with no pause in between: close() sends the acknowledgements
          // before it leaves, and the receiver gets no chance to refill the room they free
          ackDeferred();
          await receiver.close();
        }
        await flushStdout();
        await acks.settled(name);
      });
    });

  queue
    .command('browse')
    .description('print the messages waiting in queue NAME, oldest first, without consuming them')
    .argument('<name>', 'queue name')
    .option(
      '--max-messages <n>',
      `show at most N messages (default ${browseMessagesDefault}, at most ${queueBrowseMax})`,
    )
    .option('--json', 'print one JSON message object per line')
    .action(async (name: string, opts: { maxMessages?: string; json?: boolean }, cmd: Command) => {
      checkQueueName(name);
      const maxMessages =
        opts.maxMessages === undefined
          ? browseMessagesDefault
          : parseInteger(opts.maxMessages, '--max-messages', 1, queueBrowseMax);
      const messages = await withClient(globalsOf(cmd), (sluice) => sluice.admin().browseQueue(name, { maxMessages }));
      for (const m of messages) {
        if (isStdoutClosed()) break;
        await writeLine(opts.json ? JSON.stringify(queueMessageJson(name, m)) : (m.value?.toString('utf8') ?? ''));
      }
      await flushStdout();
      if (messages.length >= maxMessages) {
        process.stderr.write(
          `sluice: showed the first ${messages.length} messages; more may wait (--max-messages N)\n`,
        );
      }
    });

  queue
    .command('stats')
    .description('depth, in flight, consumers, enqueued, dequeued and dead-lettered of one queue or of all')
    .argument('[name]', 'queue name (default: every queue)')
    .option('--json', 'print JSON (one object for NAME, else an array)')
    .action(async (name: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      if (name !== undefined) checkQueueName(name);
      const stats = await withClient(globalsOf(cmd), async (sluice) =>
        name !== undefined ? [await sluice.admin().queueStats(name)] : sluice.admin().queueStats(),
      );
      const sorted = [...stats].sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
      if (opts.json) {
        const json = name !== undefined ? statsJson(sorted[0] as QueueStatistics) : sorted.map(statsJson);
        await writeLine(JSON.stringify(json));
      } else if (sorted.length > 0) {
        await writeLine(statsTable(sorted));
      }
    });

  queue
    .command('purge')
    .description('remove every waiting message of queue NAME')
    .argument('<name>', 'queue name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      checkQueueName(name);
      const count = await withClient(globalsOf(cmd), (sluice) => sluice.admin().purgeQueue(name));
      await writeLine(`Purged ${plural(count, 'message')} from queue ${name}.`);
    });

  const dlq = root.command('dlq').description('list dead-letter queues and move dead letters back');

  dlq
    .command('list')
    .description('every dead-letter queue (DLQ.<queue>) with the queue it serves and its depth')
    .option('--shared <name>', "also the shared dead-letter queue NAME (the brokers' queue.dead.letter.queue)")
    .option('--json', 'print a JSON array of {"dlq","queue","depth"} (queue null for the shared one)')
    .action(async (opts: { shared?: string; json?: boolean }, cmd: Command) => {
      if (opts.shared !== undefined) checkQueueName(opts.shared);
      const dlqs: DeadLetterQueueInfo[] = await withClient(globalsOf(cmd), (sluice) =>
        sluice.admin().listDeadLetterQueues(opts.shared),
      );
      const rows = dlqs
        .map((d) => ({ dlq: d.dlq, queue: d.queue, depth: d.depth }))
        .sort((x, y) => (x.dlq < y.dlq ? -1 : x.dlq > y.dlq ? 1 : 0));
      if (opts.json) {
        await writeLine(JSON.stringify(rows));
      } else if (rows.length === 0) {
        await writeLine(
          'No dead-letter queues: a queue gets DLQ.<queue> when a message fails more than queue.max.redeliveries times.',
        );
      } else {
        await writeLine(
          formatTable(
            ['DLQ', 'QUEUE', 'DEPTH'],
            rows.map((r) => [r.dlq, r.queue ?? '(shared)', String(r.depth)]),
          ),
        );
      }
    });

  dlq
    .command('redrive')
    .description('move the dead letters of QUEUE back to QUEUE (from its dead-letter queue)')
    .argument('<queue>', 'the queue whose dead letters go back')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      checkQueueName(name);
      const count = await withClient(globalsOf(cmd), (sluice) => sluice.admin().redriveQueue(name));
      await writeLine(`Moved ${plural(count, 'message')} back to queue ${name}.`);
    });
}
