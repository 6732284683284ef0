/** The fuzz run's summary as plain-text tables (pure: report in, text out). */
import type { FuzzReport } from './fuzz-run.js';

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function formatReport(r: FuzzReport): string {
  const parts: string[] = [];
  const scope = r.replayed
    ? `replay of frame(s) ${r.replayed.join(',')}`
    : `${r.framesPerListener} frames per listener`;
  parts.push(
    `Sluice fuzz: seed ${r.seed}, ${scope}, ${(r.elapsedMs / 1000).toFixed(0)} s — ${r.verdict.ok ? 'PASS' : 'FAIL'}`,
  );
  parts.push(
    table(
      [
        'listener',
        'frames',
        'short conns',
        'long conns',
        'answered',
        'closed by broker',
        'timed out',
        'connect errors',
        'closers',
        'UNKNOWN_SERVER_ERROR',
      ],
      r.listeners.map((s) => [
        s.listener,
        s.framesSent,
        s.shortConnections,
        s.longConnections,
        s.answered,
        s.closedByBroker,
        s.timedOut,
        s.connectErrors,
        s.closers,
        s.unknownServerErrors.length,
      ]),
    ),
  );
  const kinds = [...new Set(r.listeners.flatMap((s) => Object.keys(s.byKind)))].sort();
  parts.push(
    table(
      ['mutation', ...r.listeners.map((s) => s.listener)],
      kinds.map((k) => [k, ...r.listeners.map((s) => s.byKind[k] ?? 0)]),
    ),
  );
  parts.push(
    table(
      ['broker', 'value'],
      [
        ['pid', r.brokerPid],
        ['alive (pid running, Metadata answered)', r.brokerAlive ? 'yes' : 'NO'],
        ['RSS before', mib(r.memory.beforeBytes)],
        ['RSS peak (sampled)', mib(r.memory.peakBytes)],
        ['VmHWM', mib(r.memory.hwmBytes)],
        ['RSS after', mib(r.memory.afterBytes)],
      ],
    ),
  );
  const wb = r.wellBehaved;
  parts.push(
    table(
      ['well-behaved client', 'count'],
      [
        ['acknowledged', r.ledger.acknowledged],
        ['  acks -1 (idempotent)', wb.ackedByAcks['-1'] ?? 0],
        ['  acks 1', wb.ackedByAcks['1'] ?? 0],
        ['lost', r.ledger.lost],
        ['duplicated', r.ledger.duplicated],
        ['not at acknowledged offset', r.ledger.wrongOffset],
        ['read back', wb.readBack],
        ['consumed live', wb.consumedLive],
        ['send errors', wb.sendErrors],
        ['consume errors', wb.consumeErrors],
      ],
    ),
  );
  if (r.failureCounts.length > 0) {
    parts.push(
      table(
        ['failure lines (kind, error, api)', 'count', 'example'],
        r.failureCounts.map((f) => [f.key, f.count, f.example.slice(0, 100)]),
      ),
    );
  }
  if (r.attributions.length > 0) {
    parts.push(
      table(
        ['failure', 'reproduced alone by', 'candidates'],
        r.attributions.map((a) => [
          a.signature,
          a.frame
            ? `--seed ${r.seed} --listener ${a.frame.listener} --replay ${a.frame.index} (${a.frame.kind}${a.frame.detail ? `/${a.frame.detail}` : ''}, ${a.frame.api})`
            : 'none',
          a.candidates,
        ]),
      ),
    );
  }
  const suspects = r.listeners.find((s) => s.listener === 'native')?.unknownServerErrors ?? [];
  if (suspects.length > 0)
    parts.push(
      `native frames answered UNKNOWN_SERVER_ERROR (first 20 of ${suspects.length}): ${suspects.slice(0, 20).join(',')}`,
    );
  parts.push(r.verdict.ok ? 'verdict: PASS' : `verdict: FAIL — ${r.verdict.reasons.join('; ')}`);
  parts.push(`logs: ${r.logDir}`);
  return parts.join('\n\n');
}
