/** `sluice broker start`: runs a broker in the foreground until SIGTERM/SIGINT. */
import { Broker } from '../broker/broker.js';
import { parseBrokerConfig } from '../config/broker-config.js';
import { applyOverrides, readPropertiesFile } from '../config/properties.js';
import { createLogger, type LogFormat } from '../shared/logger.js';

export async function startBroker(opts: { configFile: string; overrides: string[] }): Promise<void> {
  const config = parseBrokerConfig(applyOverrides(readPropertiesFile(opts.configFile), opts.overrides));
  const logger = createLogger('sluice', {
    level: config.string('log.level') || undefined,
    format: config.string('log.format') as LogFormat,
  }).child({
    brokerId: config.int('broker.id'),
  });
  for (const warning of config.warnings) logger.warn(warning);
  const broker = new Broker(config, logger);
  await broker.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await broker.stop();
  logger.info('stopped cleanly');
}
