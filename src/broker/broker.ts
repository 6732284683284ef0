/**
 * A broker: storage, coordination, topic management and the native listener,
 * wired together. Start-up order: logs (recovery), coordinator, topic logs,
 * listener. Shutdown reverses it: stop accepting, finish in-flight requests,
 * flush and close the logs (LevelDB last).
 */
import { type BrokerConfig, logConfigOf } from '../config/broker-config.js';
import type { Coordinator } from '../coordination/coordinator.js';
import { StandaloneCoordinator } from '../coordination/standalone/standalone-coordinator.js';
import { GroupCoordinator } from '../groups/group-coordinator.js';
import { OffsetStore } from '../groups/offset-store.js';
import type { HandlerContext } from '../handlers/context.js';
import { handlers } from '../handlers/index.js';
import { NativeServer } from '../server/server.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { LogManager } from '../storage/log-manager.js';
import { AppendNotifier } from './append-notifier.js';
import { TopicManager } from './topic-manager.js';

export class Broker {
  private logs: LogManager | undefined;
  private coordinator: Coordinator | undefined;
  private server: NativeServer | undefined;
  private groups: GroupCoordinator | undefined;
  private readonly notifier = new AppendNotifier();
  private stopping = false;
  /** Where the listener is bound (port 0 in the config picks a free one). */
  address: { host: string; port: number } | undefined;

  constructor(
    readonly config: BrokerConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<{ host: string; port: number }> {
    if (this.config.string('zookeeper.connect') !== '') {
      throw new SluiceError(
        ErrorCode.InvalidConfig,
        'zookeeper.connect is set, but this build runs standalone brokers only (the cluster arrives with a later issue)',
      );
    }
    const logs = await LogManager.open({
      logDirs: this.config.list('log.dirs'),
      config: logConfigOf(this.config),
      logger: this.logger,
      retentionCheckIntervalMs: this.config.int('log.retention.check.interval.ms'),
    });
    this.logs = logs;
    try {
      const host = this.config.string('host.name');
      const brokerId = this.config.int('broker.id');
      const endpoint = { nodeId: brokerId, host, port: this.config.int('port') };
      const coordinator = new StandaloneCoordinator(brokerId, endpoint, logs.metadataDb);
      await coordinator.start();
      this.coordinator = coordinator;
      const topics = new TopicManager(logs, coordinator, this.config, this.logger);
      await topics.openAll();
      const groups = new GroupCoordinator(
        new OffsetStore(logs, topics),
        this.logger,
        this.config.int('group.initial.rebalance.delay.ms'),
      );
      this.groups = groups;
      const ctx: HandlerContext = {
        logs,
        coordinator,
        topics,
        config: this.config,
        notifier: this.notifier,
        groups,
        logger: this.logger,
        stopping: () => this.stopping,
      };
      this.server = new NativeServer(handlers, ctx, this.config.int('socket.request.max.bytes'), this.logger);
      this.address = await this.server.listen(host, endpoint.port);
      // with port 0 the advertised endpoint is the port actually bound
      endpoint.port = this.address.port;
      this.logger.info(
        { host: this.address.host, port: this.address.port, topics: coordinator.topics().length },
        'broker listening',
      );
      return this.address;
    } catch (err) {
      await logs.close();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.notifier.notifyAll();
    this.groups?.shutdown();
    await this.server?.close();
    await this.coordinator?.close();
    await this.logs?.close();
  }
}
