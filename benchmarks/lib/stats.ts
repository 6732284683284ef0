/** Small statistics and formatting helpers for the benchmarks. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface RateSummary {
  /** Records per second of each run, in run order. */
  rates: number[];
  median: number;
  min: number;
  max: number;
  /** Megabytes (10^6 bytes) per second at the median rate. */
  medianMBps: number;
}

export function summarize(rates: readonly number[], bytesPerRecord: number): RateSummary {
  const m = median(rates);
  return {
    rates: [...rates],
    median: m,
    min: Math.min(...rates),
    max: Math.max(...rates),
    medianMBps: (m * bytesPerRecord) / 1e6,
  };
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const fmtInt = (n: number): string => grouped.format(Math.round(n));
export const fmtFixed = (n: number, digits = 1): string => n.toFixed(digits);

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map((r) => (r.length === 0 ? rule : line(r)))].join('\n');
}
