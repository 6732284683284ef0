/**
 * `sluice broker start`: loads the configuration and brings up the broker's
 * storage (recovering any logs under log.dirs). The network listener and the
 * protocol arrive with the broker issue; until then the process serves no
 * clients and says so in its log.
 */
import { logConfigOf, parseBrokerConfig } from '../config/broker-config.js';
import { applyOverrides, readPropertiesFile } from '../config/properties.js';
import { createLogger } from '../shared/logger.js';
import { LogManager } from '../storage/log-manager.js';

export async function startBroker(opts: { configFile: string; overrides: string[] }): Promise<void> {
  const config = parseBrokerConfig(applyOverrides(readPropertiesFile(opts.configFile), opts.overrides));
  const logger = createLogger('sluice').child({ brokerId: config.int('broker.id') });
  for (const warning of config.warnings) logger.warn(warning);
  const logs = await LogManager.open({
    logDirs: config.list('log.dirs'),
    config: logConfigOf(config),
    logger,
    retentionCheckIntervalMs: config.int('log.retention.check.interval.ms'),
  });
  logger.info(
    { partitions: logs.all().length, logDirs: config.list('log.dirs') },
    'storage ready; this build has no network listener yet, so no client can connect',
  );

  // nothing else holds the event loop open until the listener exists
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      clearInterval(keepAlive);
      logger.info({ signal }, 'shutting down');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await logs.close();
  logger.info('stopped cleanly');
}
