/** `sluice broker start`: runs a broker in the foreground until SIGTERM/SIGINT. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Broker } from '../broker/broker.js';
import { parseBrokerConfig } from '../config/broker-config.js';
import { applyOverrides, type Properties, readPropertiesFile } from '../config/properties.js';
import { createLogger, type LogFormat } from '../shared/logger.js';

/** The config directory shipped with the package (beside dist/, or src/ when run from the repository). */
const packagedConfigDir = fileURLToPath(new URL('../../config/', import.meta.url));
const localConfigFile = 'config/server.properties';

/**
 * The properties to start with: the --config file; without one, config/server.properties in the
 * working directory (a clone of the repository); else, in a folder where the package was only
 * installed, the package's own server.properties with its users file (admin/admin until changed).
 */
function baseProperties(configFile: string | undefined): { props: Properties; packaged?: string } {
  if (configFile !== undefined || fs.existsSync(localConfigFile))
    return { props: readPropertiesFile(configFile ?? localConfigFile) };
  const packaged = path.join(packagedConfigDir, 'server.properties');
  const props = readPropertiesFile(packaged);
  if (!props.has('http.users.file')) props.set('http.users.file', path.join(packagedConfigDir, 'users.properties'));
  return { props, packaged };
}

export async function startBroker(opts: { configFile?: string | undefined; overrides: string[] }): Promise<void> {
  const base = baseProperties(opts.configFile);
  const config = parseBrokerConfig(applyOverrides(base.props, opts.overrides));
  const logger = createLogger('sluice', {
    level: config.string('log.level') || undefined,
    format: config.string('log.format') as LogFormat,
  }).child({
    brokerId: config.int('broker.id'),
  });
  if (base.packaged) {
    logger.info(
      { config: base.packaged },
      `no ${localConfigFile} here and no --config: starting with the package's own (data in log.dirs=${config.list('log.dirs').join(',')})`,
    );
  }
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
