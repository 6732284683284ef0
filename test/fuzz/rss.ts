/** A process's memory from /proc/<pid>/status (Linux): resident now (VmRSS) and its high-water mark (VmHWM). */
import fs from 'node:fs';

export interface MemorySample {
  rssBytes: number;
  hwmBytes: number;
}

function field(status: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The sample, or undefined when the process is gone (or this is not Linux). */
export function sampleMemory(pid: number): MemorySample | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssBytes: field(status, 'VmRSS'), hwmBytes: field(status, 'VmHWM') };
  } catch {
    return undefined;
  }
}

/** Samples `pid` every `intervalMs` and keeps the largest RSS seen; stop() ends it. */
export class MemoryWatch {
  peakRssBytes = 0;
  hwmBytes = 0;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): MemorySample | undefined {
    const s = sampleMemory(this.pid);
    if (s) {
      this.samples++;
      this.peakRssBytes = Math.max(this.peakRssBytes, s.rssBytes);
      this.hwmBytes = Math.max(this.hwmBytes, s.hwmBytes);
    }
    return s;
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}
