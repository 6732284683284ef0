/**
 * A safety net for test files that run many clients in the test process: a
 * worker thread that notices when the process's event loop stops turning
 * (a promise loop that never yields starves every timer, vitest's timeouts
 * included, so the test would hang CI instead of failing). The main thread
 * counts a beat on a shared counter from a timer and tells the worker which
 * child processes are running; when no beat comes for `stallMs`, the worker
 * writes a message to stderr, SIGKILLs those processes by PID (brokers,
 * ZooKeeper, fixtures: they would outlive the test process) and then the
 * test process itself, so vitest reports the file's worker as crashed.
 *
 * No timing is asserted: a loop that turns at all, however slowly under
 * load, beats; only a loop stuck for `stallMs` (minutes) trips it.
 */
import { Worker } from 'node:worker_threads';

const beatMs = 1000;

// plain JavaScript, run by the worker thread; everything it needs arrives in workerData and messages
const watcher = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { beats, stallMs, label } = workerData;
let pids = [];
let last = Atomics.load(beats, 0);
let lastChange = Date.now();
parentPort.on('message', (m) => { if (Array.isArray(m.pids)) pids = m.pids; });
setInterval(() => {
  const now = Atomics.load(beats, 0);
  if (now !== last) { last = now; lastChange = Date.now(); return; }
  if (Date.now() - lastChange < stallMs) return;
  fs.writeSync(2, '\\nEVENT LOOP WATCHDOG (' + label + '): no timer ran in the test process for ' + stallMs +
    ' ms (a promise loop that never yields?); killing its child processes ' + JSON.stringify(pids) +
    ' and the test process ' + process.pid + '\\n');
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.kill(process.pid, 'SIGKILL');
}, ${beatMs});
`;

export class EventLoopWatchdog {
  private readonly beats = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;

  /** `pids`: the child processes to kill if the loop stalls, asked at every beat (restarts change them). */
  constructor(label: string, stallMs: number, pids: () => (number | undefined)[]) {
    this.worker = new Worker(watcher, { eval: true, workerData: { beats: this.beats, stallMs, label } });
    this.worker.unref();
    const beat = (): void => {
      Atomics.add(this.beats, 0, 1);
      this.worker.postMessage({ pids: pids().filter((p): p is number => p !== undefined) });
    };
    beat();
    this.timer = setInterval(beat, beatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.worker.terminate();
  }
}
