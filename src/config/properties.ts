/**
 * Java-properties files (Kafka's config format) and `--override key=value`
 * pairs. Parsing follows java.util.Properties via the properties-file package.
 */
import fs from 'node:fs';
import { getProperties } from 'properties-file';
import { ErrorCode, SluiceError } from '../shared/errors.js';

export type Properties = Map<string, string>;

export function readPropertiesFile(file: string): Properties {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SluiceError(ErrorCode.InvalidConfig, `cannot read config file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new Map(Object.entries(getProperties(text)));
}

/** Applies `key=value` overrides (later ones win). */
export function applyOverrides(props: Properties, overrides: readonly string[]): Properties {
  const out = new Map(props);
  for (const pair of overrides) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SluiceError(ErrorCode.InvalidConfig, `override "${pair}" is not of the form key=value`);
    out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return out;
}
