/**
 * `--config FILE [--override k=v]` of the commands that can also work
 * offline, straight on a broker's own store (`sluice user`, `sluice quota`):
 * the broker configuration they name, or undefined to go through a running
 * broker (--brokers).
 */
import type { Command } from 'commander';
import { type BrokerConfig, parseBrokerConfig } from '../config/broker-config.js';
import { applyOverrides, readPropertiesFile } from '../config/properties.js';
import { badValue, collect } from './cli-args.js';

export interface OfflineOptions {
  config?: string;
  override: string[];
}

export function offlineConfig(opts: OfflineOptions): BrokerConfig | undefined {
  if (opts.config === undefined) {
    if (opts.override.length > 0) throw badValue('--override needs --config');
    return undefined;
  }
  return parseBrokerConfig(applyOverrides(readPropertiesFile(opts.config), opts.override));
}

export function addOfflineOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', "write to this broker's store directly (bootstrap; the standalone broker stopped)")
    .option('--override <key=value>', 'override a key of the --config file (repeatable)', collect, []);
}
