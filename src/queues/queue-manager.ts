/**
 * The queues this broker serves: one dispatcher per queue whose log
 * (`__queue.NAME`, partition 0) it leads, started and stopped with that
 * leadership. A queue request names the queue; the queue is created on first
 * use (one partition, replicated like the offsets topic, no time or size
 * retention — consumed segments are deleted by the dispatcher instead), and a
 * broker that does not lead it answers NOT_LEADER_OR_FOLLOWER.
 *
 * Consumers are bound to the connection they fetch on: when it closes, what
 * they hold goes back to the queue at once. When this broker stops leading a
 * queue, it closes the connections of that queue's consumers: a client may
 * have messages prefetched from here that the new leader (which knows their
 * delivery counts, not who holds them) hands to other consumers, and the
 * closed connection is what tells the client to drop them unseen. Without it
 * a consumer whose buffer was full (so it sent nothing to learn of the move)
 * handed out a message another consumer had acknowledged at the new leader
 * meanwhile (chaos seed 12: "acknowledged then redelivered", after the
 * controller moved the queue back to its restarted preferred replica).
 */

import type { TlsConnectOptions } from '../client/tls.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { interBrokerSasl } from '../config/inter-broker-sasl.js';
import type { Coordinator } from '../coordination/coordinator.js';
import { deadLetterQueueOf, type QueueStats, queueTopic, queueTopicPrefix } from '../protocol/native/queue-messages.js';
import type { AppendNotifier } from '../replication/append-notifier.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import { ErrorCode, isSluiceError, SluiceError } from '../shared/errors.js';
import { queueSegmentBytes } from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { validateTopicName } from '../storage/names.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { PeerClient } from './peer-client.js';
import { QueueDispatcher } from './queue-dispatcher.js';

export interface QueueManagerDeps {
  brokerId: number;
  replicas: ReplicaManager;
  topics: TopicManager;
  coordinator: Coordinator;
  config: BrokerConfig;
  notifier: AppendNotifier;
  logger: Logger;
  /** The broker's own listener address (known once it is bound). */
  self: () => { host: string; port: number } | undefined;
  /** TLS of requests to other brokers (inter.broker.security.protocol); absent: plaintext. */
  interBrokerTls?: TlsConnectOptions;
}

interface Running {
  dispatcher: QueueDispatcher;
  unsubscribe: () => void;
}

/** The connection a queue consumer is bound to: its deliveries go back when it closes. */
export interface ConsumerConnection {
  /** Unique per TCP connection for the broker's lifetime. */
  readonly connectionId: number;
  /** Runs `listener` once when this connection closes (at once if it already has). */
  onClose(listener: () => void): void;
  /** Closes the connection (its consumers' prefetched messages become stale once the queue moves). */
  close?(): void;
}

export class QueueManager {
  private readonly running = new Map<string, Running>();
  /** "connectionId\0queue\0consumerId" of consumers whose connection close is watched. */
  private readonly bound = new Set<string>();
  /** Per queue, the open connections its consumers are bound to (closed when the queue moves away). */
  private readonly consumerConnections = new Map<string, Map<number, ConsumerConnection>>();
  private peerClient: PeerClient | undefined;
  /** The ZooKeeper connection is down: this broker may have lost its leaderships without knowing yet. */
  private leadershipInDoubt = false;

  constructor(private readonly deps: QueueManagerDeps) {
    deps.coordinator.onLeadershipDoubt?.((inDoubt) => {
      if (inDoubt !== this.leadershipInDoubt) {
        this.deps.logger.warn(
          { inDoubt },
          inDoubt
            ? 'ZooKeeper connection lost: queue deliveries paused'
            : 'ZooKeeper connection back: queue deliveries resumed',
        );
      }
      this.leadershipInDoubt = inDoubt;
      for (const { dispatcher } of this.running.values()) dispatcher.pauseDeliveries(inDoubt);
    });
    // a commit or abort marker written on a queue's log (the follower applies it once it reads it)
    deps.replicas.onTxnMarker((marker) => {
      if (marker.partition !== 0 || !marker.topic.startsWith(queueTopicPrefix)) return;
      this.running.get(marker.topic.slice(queueTopicPrefix.length))?.dispatcher.onTxnMarker();
    });
    deps.replicas.onLeadershipChange((topic, partition, leader) => {
      if (partition !== 0 || !topic.startsWith(queueTopicPrefix)) return;
      const queue = topic.slice(queueTopicPrefix.length);
      if (leader) this.open(queue);
      else this.stop(queue);
    });
  }

  private get peers(): PeerClient {
    if (!this.peerClient) {
      const self = this.deps.self();
      if (!self) throw new SluiceError(ErrorCode.BrokerError, 'the broker is not listening yet');
      this.peerClient = new PeerClient(
        self,
        this.deps.brokerId,
        this.deps.interBrokerTls,
        interBrokerSasl(this.deps.config),
      );
    }
    return this.peerClient;
  }

  private open(queue: string): void {
    if (this.running.has(queue)) return;
    const topic = queueTopic(queue);
    const replica = this.deps.replicas.replica(topic, 0);
    if (!replica) return;
    const dispatcher = new QueueDispatcher(queue, replica, {
      append: (batch) =>
        this.deps.replicas.appendAsLeader(topic, 0, batch, -1, this.deps.config.int('queue.lock.timeout.ms')),
      config: this.deps.config,
      sendTo: (q, messages) => this.peers.send(q, messages),
      logger: this.deps.logger,
    });
    if (this.leadershipInDoubt) dispatcher.pauseDeliveries(true);
    const unsubscribe = this.deps.notifier.subscribe(topicPartitionKey(topic, 0), () => dispatcher.onCommitted());
    this.running.set(queue, { dispatcher, unsubscribe });
    this.deps.logger.info({ queue }, 'serving queue');
  }

  private stop(queue: string): void {
    const running = this.running.get(queue);
    if (!running) return;
    this.running.delete(queue);
    running.unsubscribe();
    running.dispatcher.close();
    // what those consumers hold or have prefetched is the new leader's to hand out now (file comment)
    const connections = this.consumerConnections.get(queue);
    this.consumerConnections.delete(queue);
    for (const connection of connections?.values() ?? []) connection.close?.();
    if (connections && connections.size > 0) {
      this.deps.logger.info({ queue, connections: connections.size }, "queue moved: its consumers' connections closed");
    }
  }

  /** Creates the queue when it does not exist yet (any broker may). */
  async ensureQueue(queue: string): Promise<void> {
    if (typeof queue !== 'string' || queue === '') {
      throw new SluiceError(ErrorCode.InvalidRequest, 'a queue name must be a non-empty string');
    }
    const topic = queueTopic(queue);
    validateTopicName(topic);
    if (this.deps.coordinator.topic(topic)) return;
    try {
      await this.deps.topics.ensureInternal(topic, 1, this.deps.config.int('queue.replication.factor'), {
        // never compacted, whatever log.cleanup.policy says: queue messages have no key to compact by,
        // and the dispatcher deletes consumed segments itself
        'cleanup.policy': 'delete',
        'segment.bytes': String(queueSegmentBytes),
        'retention.ms': '-1',
        'retention.bytes': '-1',
      });
    } catch (err) {
      // another broker created it first (its metadata reaches this one in a moment): the queue exists
      if (!isSluiceError(err, ErrorCode.TopicExists)) throw err;
    }
  }

  /** The queue's dispatcher when this broker leads it (creating the queue first when missing). */
  async dispatcher(queue: string): Promise<QueueDispatcher> {
    await this.ensureQueue(queue);
    const running = this.running.get(queue);
    if (!running) {
      const state = this.deps.coordinator.partitionState(queueTopic(queue), 0);
      throw new SluiceError(
        ErrorCode.NotLeader,
        state && state.leader >= 0
          ? `queue ${queue} is served by broker ${state.leader}`
          : `queue ${queue} has no leader right now`,
      );
    }
    await running.dispatcher.ready;
    return running.dispatcher;
  }

  /** Releases what a consumer holds when its connection closes (registered once per consumer). */
  bindConsumer(client: ConsumerConnection, queue: string, consumerId: string): void {
    const key = `${client.connectionId}\u0000${queue}\u0000${consumerId}`;
    if (this.bound.has(key)) return;
    this.bound.add(key);
    let connections = this.consumerConnections.get(queue);
    if (!connections) {
      connections = new Map();
      this.consumerConnections.set(queue, connections);
    }
    const added = !connections.has(client.connectionId);
    connections.set(client.connectionId, client);
    const unbind = (): void => {
      this.bound.delete(key);
      const open = this.consumerConnections.get(queue);
      open?.delete(client.connectionId);
      if (open?.size === 0) this.consumerConnections.delete(queue);
    };
    try {
      client.onClose(() => {
        unbind();
        const running = this.running.get(queue);
        if (running) void running.dispatcher.leave(consumerId);
      });
    } catch (err) {
      // too many consumers on the connection: this one is refused (others of the queue on it stay bound)
      this.bound.delete(key);
      if (added) connections.delete(client.connectionId);
      if (connections.size === 0) this.consumerConnections.delete(queue);
      throw err;
    }
  }

  /** Dead letters of `queue` back to it: done by the leader of its dead-letter queue (`dlq` when forwarded). */
  async redrive(queue: string, forwardedTo?: string): Promise<number> {
    await this.ensureQueue(queue);
    const shared = this.deps.config.string('queue.dead.letter.queue');
    const dlq = forwardedTo ?? (shared !== '' ? shared : deadLetterQueueOf(queue));
    if (!this.deps.coordinator.topic(queueTopic(dlq))) return 0;
    const running = this.running.get(dlq);
    if (running) {
      await running.dispatcher.ready;
      return running.dispatcher.redrive(queue);
    }
    if (forwardedTo !== undefined) throw new SluiceError(ErrorCode.NotLeader, `queue ${dlq} is not served here`);
    const res = await this.peers.admin(dlq, { op: 'redrive', queue, dlq });
    return res.count ?? 0;
  }

  /** Stats of every queue this broker serves. */
  list(): QueueStats[] {
    return [...this.running.values()].map((r) => r.dispatcher.stats()).sort((a, b) => a.queue.localeCompare(b.queue));
  }

  async close(): Promise<void> {
    for (const queue of [...this.running.keys()]) this.stop(queue);
    await this.peerClient?.close();
  }
}
