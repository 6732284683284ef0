/**
 * SerialQueues: tasks of one key run one at a time in the order handed in, tasks of different
 * keys do not wait for each other, and a failed task rejects its own caller only.
 */
import { describe, expect, it } from 'vitest';
import { SerialQueues } from '../../../src/shared/serial-queues.js';

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe('SerialQueues', () => {
  it('runs the tasks of one key one after another, in order', async () => {
    const queues = new SerialQueues<number>();
    const events: string[] = [];
    const first = gate();
    const a = queues.run(1, async () => {
      events.push('a start');
      await first.opened;
      events.push('a end');
      return 'a';
    });
    const b = queues.run(1, async () => {
      events.push('b');
      return 'b';
    });
    await Promise.resolve();
    expect(events).toEqual(['a start']);
    first.open();
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(events).toEqual(['a start', 'a end', 'b']);
  });

  it('does not hold a key behind another key', async () => {
    const queues = new SerialQueues<number>();
    const held = gate();
    const slow = queues.run(1, () => held.opened.then(() => 'slow'));
    expect(await queues.run(2, async () => 'other')).toBe('other');
    held.open();
    expect(await slow).toBe('slow');
  });

  it("rejects a failed task's caller and runs the next task of its key", async () => {
    const queues = new SerialQueues<string>();
    const failed = queues.run('p', async () => {
      throw new Error('boom');
    });
    const next = queues.run('p', async () => 'after');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('after');
  });
});
