/** assert and crashOnBug: a failed assertion is a bug and ends the process, an operating error does not. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AssertionFailure, assert } from '../../../src/shared/assert.js';

const run = promisify(execFile);
const assertModule = path.resolve(import.meta.dirname, '../../../src/shared/assert.ts');

/** Runs `body` in a fresh Node process with crashOnBug and AssertionFailure in scope. */
async function inChild(body: string): Promise<{ code: number; stderr: string }> {
  const script = `import { crashOnBug, AssertionFailure } from ${JSON.stringify(assertModule)};\n${body}`;
  try {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 30_000,
    });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

describe('assert', () => {
  it('throws an AssertionFailure naming the invariant', () => {
    expect(() => assert(false, 'offsets only grow')).toThrow(AssertionFailure);
    expect(() => assert(0, 'x')).toThrow('assertion failed: x');
    expect(() => assert(1, 'x')).not.toThrow();
  });

  it('crashOnBug ends the process on an AssertionFailure caught by a catch-all', async () => {
    const crashed = await inChild(
      "try { throw new AssertionFailure('HW <= LEO'); } catch (err) { crashOnBug(err); console.log('logged and carried on'); }",
    );
    expect(crashed.code).not.toBe(0);
    expect(crashed.stderr).toContain('assertion failed: HW <= LEO');
  }, 40_000);

  it('crashOnBug lets an operating error through to the catch-all', async () => {
    const carried = await inChild("try { throw new Error('disk full'); } catch (err) { crashOnBug(err); }");
    expect(carried).toEqual({ code: 0, stderr: '' });
  }, 40_000);
});
