/** docs/errors.md's table of error codes is the one error table's (scripts/errors-doc.ts regenerates it). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorsDocPath, errorTableMarkdown, withCurrentTable } from '../../../scripts/errors-doc.js';
import { conditionEntries } from '../../../src/shared/error-table.js';

describe('docs/errors.md', () => {
  it('has a row for every condition of src/shared/error-table.ts', () => {
    const table = errorTableMarkdown();
    for (const [, row] of conditionEntries) expect(table).toContain(`| \`${row.code}\` |`);
  });

  it('is current (run: node --import tsx scripts/errors-doc.ts)', () => {
    const doc = readFileSync(errorsDocPath, 'utf8');
    expect(withCurrentTable(doc)).toBe(doc);
  });
});
