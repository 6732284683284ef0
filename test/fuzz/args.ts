/** `npm run fuzz` arguments: --frames N --seed S [--listener native|kafka|both] [--concurrency C] [--replay i,j]. */
import type { Listener } from './fuzz-frame.js';

export interface FuzzArgs {
  frames: number;
  seed: number;
  listeners: Listener[];
  concurrency: number;
  replay: number[] | undefined;
}

/** The long form's frames per listener (issue 14: 10^5). */
export const framesDefault = 100_000;
export const concurrencyDefault = 16;
/** Connections per listener at once, at most: a bound on the fuzzer itself. */
export const concurrencyMax = 256;
const framesMax = 10_000_000;

function int(name: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} needs an integer from ${min} to ${max}, not ${text}`);
  return n;
}

export function parseArgs(argv: readonly string[], defaultSeed: number): FuzzArgs {
  const out: FuzzArgs = {
    frames: framesDefault,
    seed: defaultSeed,
    listeners: ['native', 'kafka'],
    concurrency: concurrencyDefault,
    replay: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    switch (arg) {
      case '--frames':
        out.frames = int('frames', value, 1, framesMax);
        i++;
        break;
      case '--seed':
        out.seed = int('seed', value, 0, 2 ** 32 - 1);
        i++;
        break;
      case '--concurrency':
        out.concurrency = int('concurrency', value, 1, concurrencyMax);
        i++;
        break;
      case '--listener':
        if (value !== 'native' && value !== 'kafka' && value !== 'both')
          throw new Error(`--listener is native, kafka or both, not ${value}`);
        out.listeners = value === 'both' ? ['native', 'kafka'] : [value];
        i++;
        break;
      case '--replay':
        out.replay = (value ?? '').split(',').map((s) => int('replay', s, 0, framesMax));
        i++;
        break;
      default:
        throw new Error(
          `unknown argument ${arg} (--frames N --seed S [--listener native|kafka|both] [--concurrency C] [--replay i,j])`,
        );
    }
  }
  return out;
}
