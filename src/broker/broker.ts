/**
 * A broker: storage, coordination (standalone, or a ZooKeeper cluster when
 * zookeeper.connect is set), replication, topic management, groups and the
 * native listener, wired together. Start-up order: logs (recovery), listener
 * (its port is what the broker registers), coordinator, replicas. Shutdown
 * reverses it: stop accepting, finish in-flight requests, stop replicating,
 * leave the cluster, flush and close the logs (LevelDB last).
 */
import { Connection } from '../client/connection.js';
import type { TlsConnectOptions } from '../client/tls.js';
import type { ClientTlsOptions } from '../client/types.js';
import { type BrokerConfig, logConfigOf } from '../config/broker-config.js';
import { brokerPrincipalProblem, interBrokerSasl, interBrokerSaslOption } from '../config/inter-broker-sasl.js';
import { type BrokerTls, type ListenerSecurity, listenerSecurityOf } from '../config/tls-config.js';
import type { BrokerEndpoint, Coordinator } from '../coordination/coordinator.js';
import { StandaloneCoordinator } from '../coordination/standalone/standalone-coordinator.js';
import { ZooKeeperCoordinator } from '../coordination/zookeeper/zookeeper-coordinator.js';
import { GroupCoordinator } from '../groups/group-coordinator.js';
import { OffsetStore, offsetsTopic } from '../groups/offset-store.js';
import { AclAuthorizer } from '../handlers/authorize.js';
import { BrokerClientQuotas } from '../handlers/client-quotas.js';
import type { HandlerContext } from '../handlers/context.js';
import { handlers } from '../handlers/index.js';
import type { HttpServer } from '../http/http-server.js';
import { BrokerMetrics } from '../metrics/broker-metrics.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import { QueueManager } from '../queues/queue-manager.js';
import { AppendNotifier } from '../replication/append-notifier.js';
import { ConnectionBrokerProber, type ProbeReport } from '../replication/broker-prober.js';
import { RegistrationWatch } from '../replication/registration-watch.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import type { QuotaRecord } from '../security/quotas.js';
import { type SaslMechanism, type SecurityProtocol, usesSasl, usesTls } from '../security/security-protocol.js';
import type { ConnectionSasl } from '../server/connection.js';
import { openFilesUse } from '../server/connection-quotas.js';
import { kafkaCodec } from '../server/kafka-codec.js';
import { listenerLimitsOf } from '../server/listener-limits.js';
import { nativeCodec } from '../server/native-codec.js';
import { RefusedRequests } from '../server/refused-requests.js';
import { ProtocolServer } from '../server/server.js';
import { transactionStateTopicName } from '../shared/internal-topics.js';
import {
  groupOffsetsSegmentBytes,
  readinessProbeTimeoutMs,
  saslCredentialsLoadWaitMs,
  zookeeperRejoinBackoffMs,
} from '../shared/limits.js';
import type { Logger } from '../shared/logger.js';
import { topicPartitionKey } from '../shared/topic-partition.js';
import { LogCleanerLoop } from '../storage/log-cleaner-loop.js';
import { LogManager } from '../storage/log-manager.js';
import { TopicManager } from '../topics/topic-manager.js';
import { MarkerChannel } from '../transactions/marker-channel.js';
import { TransactionCoordinator } from '../transactions/txn-coordinator.js';
import { TxnStateStore } from '../transactions/txn-state-store.js';
import { listenFailure, logDirFailure } from './start-errors.js';

export class Broker {
  private logs: LogManager | undefined;
  private coordinator: Coordinator | undefined;
  /** Cluster mode: asks peers whether the session holds while ZooKeeper is unreachable (issue 18). */
  private registrationWatch: RegistrationWatch | undefined;
  private replicas: ReplicaManager | undefined;
  private server: ProtocolServer<unknown> | undefined;
  /** The Kafka-protocol listener (kafka.port), when enabled. */
  private kafkaServer: ProtocolServer<unknown> | undefined;
  private groups: GroupCoordinator | undefined;
  private transactions: TransactionCoordinator | undefined;
  private queues: QueueManager | undefined;
  private readonly notifier = new AppendNotifier();
  private http: HttpServer | undefined;
  private readonly metrics = new BrokerMetrics();
  private cleaner: LogCleanerLoop | undefined;
  /** Where the admin HTTP API is bound. */
  httpAddress: { host: string; port: number } | undefined;
  private stopping = false;
  private readonly startedAt = Date.now();
  /** Where the Kafka-protocol listener is bound, when kafka.port is set. */
  kafkaAddress: { host: string; port: number } | undefined;
  /** Where the listener is bound (port 0 in the config picks a free one). */
  address: { host: string; port: number } | undefined;
  /** TLS of this broker's own connections to native listeners (its own and its peers'); undefined: plaintext. */
  private brokerClientTls: ClientTlsOptions | undefined;

  constructor(
    readonly config: BrokerConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<{ host: string; port: number }> {
    // a TLS listener without usable key material stops the start before anything is opened
    const security = listenerSecurityOf(this.config);
    if (security.tls && usesTls(security.interBroker)) {
      this.brokerClientTls = clientTlsOf(security.tls);
    }
    // The admin HTTP API's modules (fastify, ajv, the routes: about 0.7 s of CPU to load) are loaded
    // while the logs open, whose waits on LevelDB and the file system leave the event loop idle,
    // instead of before anything else at start-up (issue 20 item 4). Awaited where the API starts.
    const httpModule = import('../http/http-server.js');
    // a failure to load is reported where it is awaited (or not at all when the start fails earlier)
    httpModule.catch(() => undefined);
    // opening the logs also loads the zstd compressor (src/wire/zstd.ts), before any listener accepts
    const logDirs = this.config.list('log.dirs');
    const logs = await LogManager.open({
      logDirs,
      config: logConfigOf(this.config),
      logger: this.logger,
      retentionCheckIntervalMs: this.config.int('log.retention.check.interval.ms'),
      dirFullRetryMs: this.config.int('log.dir.full.retry.ms'),
      freeSpaceCheckIntervalMs: this.config.int('log.dir.free.check.interval.ms'),
      // a double: int() returns any number-typed key
      freeSpaceWarnPercent: this.config.int('log.dir.free.warn.percent'),
      openFilesMax: this.config.int('log.open.files.max'),
      metrics: this.metrics,
      // the followers' fetch sessions read the partition again: their answers carry the new log start
      onLogStartMoved: (topic, partition) => this.notifier.notify(topicPartitionKey(topic, partition)),
      ...(this.config.bool('log.scrub.enable')
        ? {
            scrub: {
              bytesPerSecond: this.config.int('log.scrub.bytes.per.second'),
              passIntervalMs: this.config.int('log.scrub.interval.ms'),
              // a follower repairs what the scrubber finds from its leader (replica-manager.ts)
              onCorrupt: (found) => {
                this.metrics.corruptFound();
                this.replicas?.corruptFound(found.topic, found.partition, found.offset);
              },
              scrubbed: (bytes) => this.metrics.scrubbed(bytes),
            },
          }
        : {}),
    }).catch((err: unknown) => {
      throw logDirFailure(err, logDirs);
    });
    this.logs = logs;
    if (this.config.bool('log.cleaner.enable')) {
      this.cleaner = new LogCleanerLoop({
        logs: () => logs.all(),
        backoffMs: this.config.int('log.cleaner.backoff.ms'),
        concurrency: this.config.int('log.cleaner.threads'),
        dedupeBufferBytes: this.config.int('log.cleaner.dedupe.buffer.size'),
        logger: this.logger,
        metrics: this.metrics,
      });
      this.cleaner.start();
    }
    try {
      const host = this.config.string('host.name');
      const brokerId = this.config.int('broker.id');
      // the port is filled in once the listener is bound (port 0 picks a free one), before registration
      const endpoint: BrokerEndpoint = { nodeId: brokerId, host, port: this.config.int('port') };
      const coordinator = this.createCoordinator(endpoint, logs);
      this.coordinator = coordinator;
      const replicas = new ReplicaManager({
        brokerId,
        logs,
        coordinator,
        config: this.config,
        notifier: this.notifier,
        logger: this.logger,
        metrics: this.metrics,
        ...this.interBrokerTls(),
      });
      this.replicas = replicas;
      const topics = new TopicManager(replicas, coordinator, this.config, this.logger);
      const groups = new GroupCoordinator(
        new OffsetStore(
          replicas,
          topics,
          this.config.int('offsets.topic.replication.factor'),
          groupOffsetsSegmentBytes,
          this.logger,
        ),
        this.logger,
        this.config.int('group.initial.rebalance.delay.ms'),
      );
      this.groups = groups;
      const transactions = this.transactionCoordinator(brokerId, replicas, topics, coordinator);
      this.transactions = transactions;
      replicas.onLeadershipChange((topic, partition, leader) => {
        if (topic === offsetsTopic) groups.onOffsetsLeadership(partition, leader);
        else if (topic === transactionStateTopicName) transactions.onLeadership(partition, leader);
      });
      // a transaction's marker on an offsets partition commits or drops its pending offsets
      replicas.onTxnMarker((marker) => groups.offsets.onTxnMarker(marker));
      const queues = new QueueManager({
        brokerId,
        replicas,
        topics,
        coordinator,
        config: this.config,
        notifier: this.notifier,
        logger: this.logger,
        self: () => this.address,
        ...this.interBrokerTls(),
      });
      this.queues = queues;
      const ctx: HandlerContext = {
        logs,
        coordinator,
        topics,
        config: this.config,
        notifier: this.notifier,
        fetchSessions: { live: 0 },
        groups,
        replicas,
        queues,
        transactions,
        logger: this.logger,
        stopping: () => this.stopping,
        metrics: this.metrics,
        quotas: this.clientQuotas(coordinator),
        // issue 17: without the authorizer every request is allowed (no check at all)
        ...(this.config.bool('authorizer.enabled') || this.config.string('authorizer.class.name') !== ''
          ? {
              authorizer: new AclAuthorizer(
                () => coordinator.acls?.() ?? [],
                AclAuthorizer.options(
                  this.config.string('super.users'),
                  this.config.bool('allow.everyone.if.no.acl.found'),
                ),
                this.logger,
              ),
            }
          : {}),
      };
      this.metrics.setSources({
        underReplicated: () => replicas.underReplicatedCount(),
        queueDepths: () => queues.list(),
        groupLags: async () => {
          const out: { group: string; topic: string; partition: number; lag: number }[] = [];
          for (const { groupId } of await groups.list()) {
            // a group whose coordinator moved away meanwhile has nothing to report here
            const committedOffsets = await groups.offsets.all(groupId).catch(() => []);
            for (const { topic, partition, committed } of committedOffsets) {
              const replica = replicas.replica(topic, partition);
              if (replica?.role !== 'leader') continue;
              out.push({
                group: groupId,
                topic,
                partition,
                lag: Math.max(0, replica.highWatermark - committed.offset),
              });
            }
          }
          return out;
        },
      });
      // one request memory pool, one connection count and one bounded log of malformed requests for both listeners
      const limits = listenerLimitsOf(this.config, this.logger, this.metrics.registry);
      const refusals = new RefusedRequests(this.logger);
      if (listenerSasl(this.config, 'native.security.protocol', coordinator) && !interBrokerSasl(this.config)) {
        this.logger.warn(
          'native.security.protocol requires SASL but sasl.inter.broker.username is empty: replication, queue forwarding and the admin API cannot authenticate',
        );
      }
      const principalProblem = brokerPrincipalProblem(this.config);
      if (principalProblem) this.logger.warn(principalProblem);
      this.server = new ProtocolServer(
        nativeCodec(refusals),
        handlers,
        ctx,
        limits,
        this.logger,
        listenerOf(security, security.native),
        listenerSasl(this.config, 'native.security.protocol', coordinator),
      );
      this.address = await this.server.listen(host, endpoint.port).catch((err: unknown) => {
        throw listenFailure(err, 'port', host, endpoint.port);
      });
      endpoint.port = this.address.port;
      const kafkaPort = this.config.int('kafka.port');
      if (kafkaPort >= 0) {
        // same handlers, same context: only the codec differs
        this.kafkaServer = new ProtocolServer(
          kafkaCodec(refusals, () => endpoint.port),
          handlers,
          ctx,
          limits,
          this.logger,
          listenerOf(security, security.kafka),
          listenerSasl(this.config, 'kafka.security.protocol', coordinator),
        );
        this.kafkaAddress = await this.kafkaServer.listen(host, kafkaPort).catch((err: unknown) => {
          throw listenFailure(err, 'kafka.port', host, kafkaPort);
        });
        endpoint.kafkaPort = this.kafkaAddress.port;
        this.logger.info({ host, port: this.kafkaAddress.port }, 'kafka listening');
      }
      await coordinator.start();
      await replicas.start();
      transactions.start();
      const { startHttpServer } = await httpModule;
      this.http = await startHttpServer({
        config: this.config,
        logger: this.logger,
        brokerAddress: () => this.address ?? { host, port: endpoint.port },
        coordinator,
        mode: coordinator instanceof ZooKeeperCoordinator ? 'cluster' : 'standalone',
        ready: () => this.ready(),
        metrics: this.metrics,
        logs,
        startedAt: this.startedAt,
        ...(this.brokerClientTls ? { brokerTls: this.brokerClientTls } : {}),
      }).catch((err: unknown) => {
        throw listenFailure(err, 'http.port', this.config.string('http.host'), this.config.int('http.port'));
      });
      this.httpAddress = this.http.address;
      // the start-up summary, one line: where each listener is, the data, the partitions (each one's
      // "leading partition" / "following partition" line at start is at debug), how long the start took
      const roles = replicas.roleCounts();
      const at = (a: { host: string; port: number }): string => `${a.host}:${a.port}`;
      const files = openFilesUse();
      if (files.warning) this.logger.warn({ openFiles: files.open, openFilesLimit: files.limit }, files.warning);
      this.logger.info(
        {
          host: this.address.host,
          port: this.address.port,
          mode: coordinator instanceof ZooKeeperCoordinator ? 'cluster' : 'standalone',
          native: `${security.native}://${at(this.address)}`,
          ...(this.kafkaAddress ? { kafka: `${security.kafka}://${at(this.kafkaAddress)}` } : {}),
          http: `${this.http.https ? 'https' : 'http'}://${at(this.http.address)}`,
          dirs: logs.dirs,
          topics: coordinator.topics().length,
          partitions: roles.partitions,
          leaders: roles.leaders,
          followers: roles.followers,
          recovered: logs.loaded.recovered,
          openFiles: files.open,
          openFilesLimit: files.limit,
          segmentFilesMax: logs.files.max,
          startMs: Date.now() - this.startedAt,
        },
        'broker listening',
      );
      return this.address;
    } catch (err) {
      await this.cleaner?.stop();
      await this.http?.close();
      await this.replicas?.close();
      await this.kafkaServer?.close();
      await this.server?.close();
      this.registrationWatch?.stop();
      await this.coordinator?.close();
      await logs.close();
      throw err;
    }
  }

  /** The transaction coordinator: its log (__transaction_state), its marker channel to partition leaders, its timers. */
  private transactionCoordinator(
    brokerId: number,
    replicas: ReplicaManager,
    topics: TopicManager,
    coordinator: Coordinator,
  ): TransactionCoordinator {
    let resume: TransactionCoordinator['resume'] = () => undefined;
    const store = new TxnStateStore({
      replicas,
      topics,
      partitions: this.config.int('transaction.state.log.num.partitions'),
      replicationFactor: this.config.int('transaction.state.log.replication.factor'),
      minIsr: this.config.int('transaction.state.log.min.isr'),
      liveBrokers: () => coordinator.brokers().length,
      logger: this.logger,
      onLoaded: (_partition, _epoch, loaded) => resume(loaded),
    });
    const { interBrokerTls } = this.interBrokerTls();
    const sasl = interBrokerSaslOption(this.config);
    const markers = new MarkerChannel({
      brokerId,
      coordinator,
      // the brokers' own connections, with the inter-broker TLS / SASL settings
      connect: (options) => new Connection({ ...options, ...(interBrokerTls ? { tls: interBrokerTls } : {}), ...sasl }),
      logger: this.logger,
    });
    const transactions = new TransactionCoordinator({
      store,
      markers,
      allocateProducerId: () => coordinator.allocateProducerId(),
      maxTimeoutMs: this.config.int('transaction.max.timeout.ms'),
      idExpirationMs: this.config.int('transactional.id.expiration.ms'),
      abortIntervalMs: this.config.int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
      removeIntervalMs: this.config.int('transaction.remove.expired.transaction.cleanup.interval.ms'),
      logger: this.logger,
    });
    resume = (loaded) => transactions.resume(loaded);
    return transactions;
  }

  /** Ready when the native listener answers ApiVersions over TCP, as a client would see it. */
  private async ready(): Promise<void> {
    const { host, port } = this.address ?? { host: this.config.string('host.name'), port: this.config.int('port') };
    const conn = new Connection({
      host,
      port,
      clientId: 'sluice-readyz',
      connectTimeoutMs: readinessProbeTimeoutMs,
      requestTimeoutMs: readinessProbeTimeoutMs,
      ...this.interBrokerTls(),
    });
    try {
      await conn.request(ApiKey.ApiVersions, {});
    } finally {
      conn.close();
    }
  }

  /** The `interBrokerTls` / `tls` option of this broker's own clients, when they use TLS. */
  /**
   * Client quotas: the coordinator's stored ones, and quota.producer.default /
   * quota.consumer.default as the `<default>` client entity where no stored one sets it.
   */
  private clientQuotas(coordinator: Coordinator): BrokerClientQuotas {
    const quotas = new BrokerClientQuotas(
      { samples: this.config.int('quota.window.num'), sampleMs: this.config.int('quota.window.size.seconds') * 1000 },
      this.metrics,
    );
    const producer = this.config.int('quota.producer.default');
    const consumer = this.config.int('quota.consumer.default');
    const defaults: QuotaRecord['quotas'] = {
      ...(producer > 0 ? { producer_byte_rate: producer } : {}),
      ...(consumer > 0 ? { consumer_byte_rate: consumer } : {}),
    };
    const store = coordinator.clientQuotas;
    const refresh = (): void => {
      const stored = store?.describe() ?? [];
      const records = [...stored];
      if (Object.keys(defaults).length > 0) {
        const i = records.findIndex((r) => r.entity.user === undefined && r.entity.clientId === null);
        const current = records[i];
        if (current) records[i] = { entity: current.entity, quotas: { ...defaults, ...current.quotas } };
        else records.push({ entity: { clientId: null }, quotas: defaults });
      }
      quotas.setRecords(records);
    };
    store?.onChange(refresh);
    refresh();
    return quotas;
  }

  private interBrokerTlsOption(): { tls?: TlsConnectOptions } {
    const { interBrokerTls } = this.interBrokerTls();
    return interBrokerTls ? { tls: interBrokerTls } : {};
  }

  private interBrokerTls(): { interBrokerTls?: TlsConnectOptions; tls?: TlsConnectOptions } {
    const tls = this.brokerClientTls;
    return tls ? { interBrokerTls: tls, tls } : {};
  }

  private createCoordinator(endpoint: BrokerEndpoint, logs: LogManager): Coordinator {
    const connect = this.config.string('zookeeper.connect');
    if (connect === '') return new StandaloneCoordinator(endpoint.nodeId, endpoint, logs.metadataDb);
    const coordinator = new ZooKeeperCoordinator({
      brokerId: endpoint.nodeId,
      connect,
      endpoint,
      httpPort: this.config.int('http.port'),
      sessionTimeoutMs: this.config.int('zookeeper.session.timeout.ms'),
      connectTimeoutMs: this.config.int('zookeeper.connection.timeout.ms'),
      uncleanLeaderElectionEnable: this.config.bool('unclean.leader.election.enable'),
      autoLeaderRebalanceEnable: this.config.bool('auto.leader.rebalance.enable'),
      leaderImbalanceCheckIntervalMs: this.config.int('leader.imbalance.check.interval.seconds') * 1000,
      onError: (err) => this.logger.warn({ err }, 'cluster coordination step failed'),
      // fencing (issue 18): as controller, probe every broker and fence one that is gone or silent
      ...(this.config.bool('controller.broker.fencing.enable')
        ? {
            prober: (report: ProbeReport) =>
              new ConnectionBrokerProber(
                { brokerId: endpoint.nodeId, config: this.config, ...this.interBrokerTlsOption() },
                report,
              ),
          }
        : {}),
      onFence: (brokerId, fenced, why) =>
        fenced
          ? this.logger.warn({ brokerId, why }, 'controller fenced a broker: its leaderships and ISR memberships move')
          : this.logger.info({ brokerId, why }, 'controller unfenced a broker: it rejoins as a follower'),
      onWaitingForPreviousSession: ({ path, waitMs }) =>
        this.logger.info(
          { path, waitMs },
          'waiting for the previous ZooKeeper session of this broker id to expire before registering',
        ),
    });
    // cut from ZooKeeper (but perhaps not from its peers and clients): ask the peers whether the session
    // still holds; a connected peer that no longer sees the registration proves it expired
    const watch = new RegistrationWatch({
      brokerId: endpoint.nodeId,
      config: this.config,
      logger: this.logger,
      peers: () => coordinator.brokers(),
      registrationZxid: () => coordinator.registrationZxid,
      onExpired: (peerId) => {
        if (coordinator.abandonExpiredSession()) {
          this.logger.warn(
            { peer: peerId },
            'ZooKeeper unreachable and a connected peer no longer sees this broker registered: the session expired',
          );
        }
      },
      ...this.interBrokerTlsOption(),
    });
    this.registrationWatch = watch;
    coordinator.onLeadershipDoubt((inDoubt) => (inDoubt ? watch.start() : watch.stop()));
    coordinator.onSessionLost(() => {
      watch.stop();
      // without a session this broker is out of the cluster: another broker may already lead its
      // partitions, so it stops serving writes and reads as leader at once (no split brain)
      this.logger.error('ZooKeeper session lost: resigning every partition');
      this.replicas?.resignAll('the ZooKeeper session was lost');
      void this.rejoin(coordinator);
    });
    return coordinator;
  }

  /** A new session and registration after the old one expired; tried until it works or the broker stops. */
  private async rejoin(coordinator: ZooKeeperCoordinator): Promise<void> {
    while (!this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, zookeeperRejoinBackoffMs));
      if (this.stopping) return;
      try {
        await coordinator.reconnect();
        await this.replicas?.reapplyAll();
        this.logger.info('rejoined the cluster with a new ZooKeeper session');
        return;
      } catch (err) {
        this.logger.warn({ err }, 'rejoining the cluster failed; trying again');
      }
    }
  }

  async stop(): Promise<void> {
    if (
      this.replicas &&
      this.coordinator?.requestControlledShutdown &&
      !this.stopping &&
      this.config.bool('controlled.shutdown.enable')
    ) {
      // controlled shutdown (issue 18): leaderships and ISR memberships move to other brokers first
      const started = Date.now();
      const held = await this.replicas.controlledShutdown(
        this.config.int('controlled.shutdown.max.retries'),
        this.config.int('controlled.shutdown.retry.backoff.ms'),
      );
      if (held.length === 0) this.logger.info({ ms: Date.now() - started }, 'controlled shutdown succeeded');
      else {
        this.logger.warn(
          { partitions: held.slice(0, 10), count: held.length },
          'controlled shutdown could not move every partition; proceeding with an unclean shutdown',
        );
      }
    }
    this.stopping = true;
    this.notifier.notifyAll();
    await this.http?.close();
    this.groups?.shutdown();
    this.transactions?.close();
    // queue fetches long-poll on the dispatchers: closing them answers those before the listener drains
    await this.queues?.close();
    await Promise.all([this.kafkaServer?.close(), this.server?.close()]);
    await this.replicas?.close();
    this.registrationWatch?.stop();
    await this.coordinator?.close();
    await this.cleaner?.stop();
    await this.logs?.close();
  }
}

/** A listener's protocol with the broker's TLS material. */
function listenerOf(security: ListenerSecurity, protocol: ListenerSecurity['native']) {
  return security.tls ? { protocol, tls: security.tls } : { protocol };
}

/**
 * The broker as a TLS client of brokers: it trusts its truststore (the system
 * CAs without one), shows its own certificate (so that ssl.client.auth=required
 * admits its peers) and checks the peer's host name unless
 * ssl.endpoint.identification.algorithm is empty.
 */
function clientTlsOf(tls: BrokerTls): ClientTlsOptions {
  return {
    key: tls.key,
    cert: tls.cert,
    ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }),
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
  };
}

/** A listener's SASL settings when its security protocol is SASL_PLAINTEXT or SASL_SSL (credentials: the coordinator's store). */
function listenerSasl(
  config: BrokerConfig,
  key: 'native.security.protocol' | 'kafka.security.protocol',
  coordinator: Coordinator,
): ConnectionSasl | undefined {
  if (!usesSasl(config.string(key) as SecurityProtocol)) return undefined;
  const store = coordinator.scramCredentials;
  let loaded = store === undefined;
  void store?.loaded().then(() => {
    loaded = true;
  });
  return {
    // the config table allows only Sluice's mechanism names in the list
    mechanisms: config.list('sasl.enabled.mechanisms') as SaslMechanism[],
    lookup: (user, mechanism) => coordinator.scramCredentials?.credential(user, mechanism),
    // the listeners open before the coordinator has read the credentials: wait for them (bounded)
    credentialsReady: () =>
      loaded || !store
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), saslCredentialsLoadWaitMs);
            void store.loaded().then(() => {
              clearTimeout(timer);
              resolve(true);
            });
          }),
  };
}
