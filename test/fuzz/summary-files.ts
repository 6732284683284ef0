/** Writes a run's summary next to its broker log: summary.txt (the tables) and summary.json (figures, first failures). */
import fs from 'node:fs';
import path from 'node:path';
import type { FuzzReport } from './fuzz-run.js';
import { formatReport } from './report.js';

/** Failure lines kept in summary.json (the broker log holds them all). */
const failuresInJsonMax = 1000;

export function writeSummary(report: FuzzReport): string {
  const text = formatReport(report);
  fs.writeFileSync(path.join(report.logDir, 'summary.txt'), `${text}\n`);
  const { listeners, failures, ...rest } = report;
  fs.writeFileSync(
    path.join(report.logDir, 'summary.json'),
    JSON.stringify(
      {
        ...rest,
        listeners: listeners.map(({ records: _r, ...s }) => s),
        failures: failures.slice(0, failuresInJsonMax),
      },
      null,
      2,
    ),
  );
  return text;
}
