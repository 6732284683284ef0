/** Stopping child processes a test started: by PID, waiting for the exit. */
import type { ChildProcess } from 'node:child_process';

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGKILL by PID (never by name) and wait until the child is gone. */
export async function killAndWait(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  await done;
}
