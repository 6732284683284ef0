/**
 * The chaos suite's checker for queues: a pure model fed the queue worker's
 * events in the order they happened (one process writes them all, so the
 * file's order is the real order), then the messages left in each queue
 * and dead-letter queue once the load stopped.
 *
 * What it finds:
 * - lost: sent (acknowledged to the sender, or committed by a transacted
 *   session) but never acknowledged by a consumer (or committed), nor left
 *   in its queue or dead-letter queue. An acknowledgement that failed has an
 *   unknown outcome (the broker may have stored it): such a message, gone
 *   afterwards, counts as "ack outcome unknown", not lost — except a message
 *   whose transacted commit failed: it must be back in its queue or its copy
 *   must be in the output queue (the commit took effect), else it is lost;
 * - acknowledged then redelivered: a delivery after a successful acknowledgement
 *   (or commit), or an acknowledged message still waiting in its queue;
 * - unflagged redeliveries: by the broker's delivery counts, not by the order
 *   the consumers logged them (two consumers' logs can be milliseconds out of
 *   order): a delivery with a count of 2 or more and redelivered false, or a
 *   second delivery of a message with a count of 1;
 * - dead letters before their limit: a message dead-lettered after fewer
 *   deliveries to the application than 1 + queue.max.redeliveries;
 * - duplicate copies: an id stored at two offsets of one queue (a send or
 *   commit retried after its answer was lost); reported, not a redelivery.
 *
 * Loss is judged per id (any copy acknowledged will do); redeliveries and
 * acknowledgements per message, i.e. per (queue, offset).
 */

import type { QueueEvent } from './events.js';
import { addExample } from './log-checker.js';

/** Messages (and ids) one check tracks at most (a small object each). */
export const queueMessagesMax = 2_000_000;

export interface QueueFindings {
  sent: number;
  sendFailed: number;
  acknowledged: number;
  deliveries: number;
  commits: number;
  rollbacks: number;
  remaining: number;
  deadLettered: number;
  ackOutcomeUnknown: number;
  lost: number;
  ackedThenRedelivered: number;
  unflaggedRedeliveries: number;
  dlqBeforeLimit: number;
  /** Messages whose acknowledgement succeeded twice (two consumers held them at once). */
  ackedTwice: number;
  /** Ids stored at more than one offset of a queue (a retried send or commit). */
  duplicateCopies: number;
  examples: Record<string, string[]>;
}

/** One id on one queue: what loss is judged by. */
interface IdState {
  sent: boolean;
  acked: boolean;
  deliveries: number;
  remaining: boolean;
  dlq: boolean;
  /** An acknowledgement was attempted and failed (outcome unknown). */
  ackTried: boolean;
  /** The output queue of a transacted commit of this message that failed. */
  rolledBackTo: string | null;
  /** The offsets this id was delivered from (more than one: duplicate copies). */
  offsets: number[];
}

/** One message (queue, offset): what redeliveries and acknowledgements are judged by. */
interface MessageState {
  acked: boolean;
  deliveries: number;
  /** A delivery with count 1 (the broker's first) was seen. */
  firstSeen: boolean;
}

export class QueueChecker {
  private readonly ids = new Map<string, IdState>();
  private readonly messages = new Map<string, MessageState>();
  private sendFailed = 0;
  private deliveries = 0;
  private commits = 0;
  private rollbacks = 0;
  private ackedThenRedelivered = 0;
  private unflagged = 0;
  private dlqBeforeLimit = 0;
  private ackedTwice = 0;
  private readonly examples: Record<string, string[]> = {};

  /** `maxRedeliveries`: the brokers' queue.max.redeliveries. */
  constructor(private readonly maxRedeliveries: number) {}

  private bound(): void {
    if (this.ids.size + this.messages.size >= queueMessagesMax)
      throw new Error(`more than ${queueMessagesMax} queue messages to check`);
  }

  private id(queue: string, id: string): IdState {
    const key = `${queue}\u0000${id}`;
    let s = this.ids.get(key);
    if (!s) {
      this.bound();
      s = {
        sent: false,
        acked: false,
        deliveries: 0,
        remaining: false,
        dlq: false,
        ackTried: false,
        rolledBackTo: null,
        offsets: [],
      };
      this.ids.set(key, s);
    }
    return s;
  }

  private message(queue: string, offset: number): MessageState {
    const key = `${queue}\u0000${offset}`;
    let s = this.messages.get(key);
    if (!s) {
      this.bound();
      s = { acked: false, deliveries: 0, firstSeen: false };
      this.messages.set(key, s);
    }
    return s;
  }

  private example(kind: string, text: string): void {
    addExample(this.examples, kind, text);
  }

  private acknowledged(queue: string, id: string, offset: number, via: string): void {
    this.id(queue, id).acked = true;
    const m = this.message(queue, offset);
    if (m.acked) {
      this.ackedTwice++;
      this.example('ackedTwice', `${queue}/${id} (offset ${offset}) acknowledged again, by ${via}`);
    }
    m.acked = true;
  }

  event(e: QueueEvent): void {
    switch (e.ev) {
      case 'send':
        this.id(e.queue, e.id).sent = true;
        return;
      case 'send-fail':
        this.sendFailed++;
        return;
      case 'deliver': {
        this.deliveries++;
        const id = this.id(e.queue, e.id);
        id.deliveries++;
        if (!id.offsets.includes(e.offset)) id.offsets.push(e.offset);
        const m = this.message(e.queue, e.offset);
        const what = `${e.queue}/${e.id} (offset ${e.offset})`;
        if (m.acked) {
          this.ackedThenRedelivered++;
          this.example(
            'ackedThenRedelivered',
            `${what} delivered to ${e.via} (count ${e.count}) after its acknowledgement`,
          );
        }
        // Which delivery came first is the broker's count, not the log order: a consumer holding the
        // first delivery may log it after another consumer logged the (flagged) second one.
        const again = e.count <= 1 ? m.firstSeen : !e.redelivered;
        if (e.count <= 1) m.firstSeen = true;
        if (again) {
          this.unflagged++;
          this.example(
            'unflaggedRedeliveries',
            `${what} delivery ${m.deliveries + 1} to ${e.via}: count ${e.count}, redelivered ${e.redelivered}`,
          );
        }
        m.deliveries++;
        return;
      }
      case 'ack':
        this.acknowledged(e.queue, e.id, e.offset, e.via);
        return;
      case 'commit':
        this.commits++;
        e.acked.forEach((id, i) => {
          this.acknowledged(e.from, id, e.ackedOffsets[i] ?? -1, 'a commit');
        });
        for (const id of e.sent) this.id(e.to, id).sent = true;
        return;
      case 'rollback':
        this.rollbacks++;
        for (const id of e.ids) this.id(e.from, id).rolledBackTo = e.to;
        return;
      case 'remaining': {
        const s = this.id(e.queue, e.id);
        if (e.dlq) {
          s.dlq = true;
          if (s.deliveries < 1 + this.maxRedeliveries) {
            this.dlqBeforeLimit++;
            this.example(
              'dlqBeforeLimit',
              `${e.queue}/${e.id} dead-lettered after ${s.deliveries} deliveries (broker count ${e.deliveryCount})`,
            );
          }
          return;
        }
        s.remaining = true;
        if (this.message(e.queue, e.offset).acked) {
          this.ackedThenRedelivered++;
          this.example(
            'ackedThenRedelivered',
            `${e.queue}/${e.id} (offset ${e.offset}) acknowledged, yet still in the queue`,
          );
        }
        return;
      }
      case 'ack-fail':
        this.id(e.queue, e.id).ackTried = true;
        return;
      case 'release':
        return;
    }
  }

  finish(): QueueFindings {
    let sent = 0;
    let acknowledged = 0;
    let remaining = 0;
    let deadLettered = 0;
    let lost = 0;
    let ackOutcomeUnknown = 0;
    let duplicateCopies = 0;
    for (const [key, s] of this.ids) {
      if (s.sent) sent++;
      if (s.acked) acknowledged++;
      if (s.remaining) remaining++;
      if (s.dlq) deadLettered++;
      if (s.offsets.length > 1) {
        duplicateCopies++;
        this.example('duplicateCopies', `${key.replace('\u0000', '/')} stored at offsets ${s.offsets.join(', ')}`);
      }
      if (!s.sent || s.acked || s.remaining || s.dlq) continue;
      const id = key.slice(key.indexOf('\u0000') + 1);
      const copy = s.rolledBackTo === null ? undefined : this.ids.get(`${s.rolledBackTo}\u0000${id}`);
      if (copy && (copy.sent || copy.deliveries > 0 || copy.remaining || copy.dlq)) continue;
      if (s.ackTried && s.rolledBackTo === null) {
        ackOutcomeUnknown++;
      } else {
        lost++;
        this.example(
          'lost',
          `${key.replace('\u0000', '/')} sent, ${s.deliveries} deliveries, never acknowledged nor left in a queue`,
        );
      }
    }
    return {
      sent,
      sendFailed: this.sendFailed,
      acknowledged,
      deliveries: this.deliveries,
      commits: this.commits,
      rollbacks: this.rollbacks,
      remaining,
      deadLettered,
      ackOutcomeUnknown,
      lost,
      ackedThenRedelivered: this.ackedThenRedelivered,
      unflaggedRedeliveries: this.unflagged,
      dlqBeforeLimit: this.dlqBeforeLimit,
      ackedTwice: this.ackedTwice,
      duplicateCopies,
      examples: this.examples,
    };
  }
}
