/**
 * Queue requests one broker makes of another: dead-lettering a message to a
 * DLQ and redriving dead letters back both append to a queue whose leader may
 * be any broker. This is the client library's cluster view bootstrapped with
 * the broker's own address (it learns the others from metadata); a queue
 * request to a broker that does not lead the queue creates it there if
 * needed and answers NOT_LEADER_OR_FOLLOWER, after which the metadata is
 * refreshed and the leader asked. Bounded by retries and a deadline.
 */
import { parseBrokers } from '../client/brokers.js';
import { Cluster } from '../client/cluster.js';
import { wireError } from '../client/errors.js';
import type { TlsConnectOptions } from '../client/tls.js';
import type { InterBrokerSasl } from '../config/inter-broker-sasl.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../protocol/native/apis.js';
import {
  type QueueAdminRequest,
  type QueueAdminResponse,
  type QueueMessageInput,
  queueTopic,
} from '../protocol/native/queue-messages.js';
import { queuePeerRequestTimeoutMs } from '../shared/limits.js';

export class PeerClient {
  private readonly cluster: Cluster;

  constructor(self: { host: string; port: number }, brokerId: number, tls?: TlsConnectOptions, sasl?: InterBrokerSasl) {
    this.cluster = new Cluster({
      brokers: parseBrokers(`${self.host}:${self.port}`),
      clientId: `broker-${brokerId}-queues`,
      connectTimeoutMs: 5000,
      requestTimeoutMs: queuePeerRequestTimeoutMs,
      maxInFlight: 5,
      retries: 10,
      retryBackoffMs: 100,
      ...(tls ? { tls } : {}),
      emit: () => {},
      ...(sasl ? { sasl } : {}),
    });
  }

  /** Sends messages to `queue` (acknowledged once its ISR has them). */
  async send(queue: string, messages: QueueMessageInput[]): Promise<number> {
    const res = await this.atLeader(queue, ApiKey.QueueSend, {
      queue,
      messages,
      timeoutMs: queuePeerRequestTimeoutMs,
    });
    return res.baseOffset;
  }

  admin(queue: string, request: QueueAdminRequest): Promise<QueueAdminResponse> {
    return this.atLeader(queue, ApiKey.QueueAdmin, request);
  }

  private atLeader<K extends ApiKey>(queue: string, apiKey: K, body: RequestOf<K>): Promise<ResponseOf<K>> {
    const topic = queueTopic(queue);
    const deadline = Date.now() + queuePeerRequestTimeoutMs;
    return this.cluster.retry(async () => {
      let leader: number | undefined;
      try {
        leader = await this.cluster.leaderOf(topic, 0);
      } catch {
        leader = undefined; // not created yet: any broker creates it and names the leader next time
      }
      const conn =
        leader === undefined ? await this.cluster.anyConnection() : await this.cluster.brokerConnection(leader);
      const res: ResponseOf<K> = await conn.request(apiKey, body);
      if (res.errorCode !== 0) {
        const err = wireError(res.errorCode, `${queue}: broker-to-broker request`, res.errorMessage);
        // a retriable answer (Kafka's rule, set by wireError) is retried by cluster.retry; before the
        // deadline the queue's metadata is looked up again first
        if (err.retriable && Date.now() < deadline) this.cluster.invalidate(topic);
        throw err;
      }
      return res;
    });
  }

  async close(): Promise<void> {
    await this.cluster.close();
  }
}
