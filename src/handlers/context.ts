/** What every request handler can reach. Handlers never see sockets or codecs. */

import type { BrokerConfig } from '../config/broker-config.js';
import type { Coordinator } from '../coordination/coordinator.js';
import type { GroupCoordinator } from '../groups/group-coordinator.js';
import type { ApiKey } from '../protocol/native/api-keys.js';
import type { RequestOf, ResponseOf } from '../protocol/native/apis.js';
import type { QueueManager } from '../queues/queue-manager.js';
import type { AppendNotifier } from '../replication/append-notifier.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { AclOperation, ConcreteResourceType } from '../security/acl.js';
import type { Principal } from '../security/principal.js';
import type { SaslServerSession } from '../security/sasl-server.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { LogManager } from '../storage/log-manager.js';
import type { TopicManager } from '../topics/topic-manager.js';
import type { TransactionCoordinator } from '../transactions/txn-coordinator.js';

export interface HandlerContext {
  logs: LogManager;
  coordinator: Coordinator;
  topics: TopicManager;
  config: BrokerConfig;
  notifier: AppendNotifier;
  /** This broker's replica fetch sessions (fetch-sessions.ts), counted per broker. */
  fetchSessions: FetchSessionCount;
  groups: GroupCoordinator;
  /** Roles, high watermarks, ISR and acks=-1 waits of the partitions this broker holds. */
  replicas: ReplicaManager;
  /** JMS-style queues served by this broker. */
  queues: QueueManager;
  logger: Logger;
  /** Set when the broker is shutting down: long polls return at once. */
  stopping: () => boolean;
  /** Metrics (the broker's Prometheus registry; absent in tests that build a bare context). */
  metrics?: HandlerMetrics;
  /** The ACL authorizer (issue 17); absent when `authorizer.enabled=false`: every request is allowed. */
  authorizer?: Authorizer;
  /** Client quotas (issue 17); absent when none can be configured (a bare test context). */
  quotas?: ClientQuotas;
  /** The transaction coordinator (issue 21); absent in a bare test context: transactional requests get NOT_COORDINATOR. */
  transactions?: TransactionCoordinator;
}

/** The transaction coordinator, or NOT_COORDINATOR when this context has none. */
export function transactionsOf(ctx: HandlerContext): TransactionCoordinator {
  if (!ctx.transactions) throw new SluiceError(ErrorCode.NotCoordinator, 'this broker has no transaction coordinator');
  return ctx.transactions;
}

/** How many replica fetch sessions a broker holds (each belongs to one open connection; fetch-sessions.ts). */
export interface FetchSessionCount {
  live: number;
}

/** Records a client's produced or fetched bytes and answers how long to throttle it (ms, 0 for none). */
export interface ClientQuotas {
  throttle(key: 'producer_byte_rate' | 'consumer_byte_rate', client: ClientInfo, bytes: number): number;
  /** Whether request handling time is to be measured (some entity sets request_percentage). */
  readonly measuresRequestTime: boolean;
  /**
   * Records `ms` of request handling against the client's request_percentage
   * and answers the throttle (ms, 0 for none); `throttle` false only records
   * it (the encoding of a response already answered, Kafka's network-thread time).
   */
  requestTime(client: Pick<ClientInfo, 'principal' | 'clientId'>, ms: number, throttle: boolean): number;
  /** Records `ms` of handling of a request exempt from quotas (inter-broker, SASL), for the metrics. */
  exemptRequestTime(ms: number): void;
}

/** Decides whether a client may do an operation on a resource (authorize.ts: AclAuthorizer). */
export interface Authorizer {
  /** `logDenial` false: a listing leaves the resource out quietly. */
  allows(
    client: ClientInfo,
    operation: AclOperation,
    resourceType: ConcreteResourceType,
    name: string,
    logDenial?: boolean,
  ): boolean;
  /** May the client do `operation` on some resource of the type (Kafka's authorizeByResourceType)? */
  allowsAny(client: ClientInfo, operation: AclOperation, resourceType: ConcreteResourceType): boolean;
}

/** What request handling reports: per-API request latency, and records in and out per topic. */
export interface HandlerMetrics {
  request(api: string, seconds: number): void;
  /** `records`: the RecordBatch v2 bytes appended by a producer. */
  produced(topic: string, records: Buffer): void;
  /** `records`: the RecordBatch v2 bytes served to a consumer. */
  fetched(topic: string, records: Buffer): void;
}

/** Who sent the request. */
export interface ClientInfo {
  clientId: string;
  clientHost: string;
  /** Who the connection acts for (`User:ANONYMOUS` until it authenticates); ACLs and quotas key on it. */
  principal: Principal;
  /** Unique per TCP connection for the broker's lifetime (queue consumers are bound to theirs). */
  connectionId: number;
  /** Runs `listener` once when this connection closes (at once if it already has). */
  onClose(listener: () => void): void;
  /** Closes this connection (a queue consumer's, when this broker stops leading its queue). Absent in bare test contexts. */
  close?(): void;
  /**
   * Stops reading this connection's requests for `ms` (a quota's throttle
   * when no response carries it: produce with acks 0). Absent in bare test contexts.
   */
  mute?(ms: number): void;
  /** The connection's SASL state on a SASL_PLAINTEXT or SASL_SSL listener; absent on any other. */
  sasl?: SaslServerSession;
}

/**
 * The handler of native API K: it gets the request its API's shape let
 * through (parsed once by the listener codec, see request-check.ts), so it
 * checks only what a shape cannot say (a range that depends on the config, a
 * field required by another), and answers with K's response type. The
 * versions it speaks are the registry's (src/protocol/native/apis.ts).
 */
export interface Handler<K extends ApiKey> {
  apiKey: K;
  /** Resolves to the response body, or undefined when none is sent (produce with acks 0). */
  handle(request: RequestOf<K>, ctx: HandlerContext, client: ClientInfo): Promise<ResponseOf<K> | undefined>;
}

/** One handler per API key: a missing one, or one under the wrong key, does not compile. */
export type HandlerTable = { readonly [K in ApiKey]: Handler<K> };

/** A semantic check the request's shape cannot express failed: INVALID_REQUEST with `message`. */
export function bad(message: string): SluiceError {
  return new SluiceError(ErrorCode.InvalidRequest, message);
}
