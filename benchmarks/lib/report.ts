/**
 * The suite's outputs: the figures (each the median of its runs), the JSON
 * results file, a horizontal bar chart as SVG text, and the generated section
 * of benchmarks/README.md (only the text between the results markers is
 * rewritten; the intro and the optimisation log are left alone).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { median } from './stats.js';

export type Section = 'Ceiling' | 'Sluice' | 'Sluice cluster' | 'Redis Streams' | 'ActiveMQ';

export const sectionOrder: readonly Section[] = ['Ceiling', 'Sluice', 'Sluice cluster', 'Redis Streams', 'ActiveMQ'];

export interface Figure {
  id: string;
  section: Section;
  label: string;
  /** 'records/s' for throughput (ops/s and msgs/s of the peers too), 'ms', 'MiB'. */
  unit: string;
  runs: number[];
  median: number;
  /** Payload bytes per record, for MB/s (10^6 bytes) of throughput figures. */
  bytesPerRecord?: number;
  note?: string;
}

export interface Skipped {
  section: Section;
  what: string;
  reason: string;
}

export interface Ratio {
  label: string;
  value: number;
  detail: string;
}

export interface Target {
  target: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

export interface Results {
  date: string;
  startedAt: string;
  durationSeconds: number;
  mode: 'quick' | 'full';
  runs: number;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  brokerRuntime: string;
  figures: Figure[];
  skipped: Skipped[];
  ratios: Ratio[];
  targets: Target[];
  details: Record<string, unknown>;
}

/** Collects run values per figure id, in the order figures are first seen. */
export class Figures {
  private readonly byId = new Map<string, Omit<Figure, 'median'>>();
  readonly skipped: Skipped[] = [];

  add(f: Omit<Figure, 'runs' | 'median'>, value: number): void {
    let fig = this.byId.get(f.id);
    if (!fig) {
      fig = { ...f, runs: [] };
      this.byId.set(f.id, fig);
    }
    if (f.note !== undefined) fig.note = f.note;
    fig.runs.push(Number.isFinite(value) ? Math.round(value * 1000) / 1000 : value);
  }

  skip(section: Section, what: string, reason: string): void {
    if (!this.skipped.some((s) => s.section === section && s.what === what))
      this.skipped.push({ section, what, reason });
  }

  get(id: string): Figure | undefined {
    const f = this.byId.get(id);
    return f ? { ...f, median: median(f.runs) } : undefined;
  }

  median(id: string): number {
    return this.get(id)?.median ?? Number.NaN;
  }

  /** Every figure, grouped by section (in sectionOrder), in the order first seen within a section. */
  all(): Figure[] {
    const figs = [...this.byId.keys()].map((id) => this.get(id) as Figure);
    return figs.sort((a, b) => sectionOrder.indexOf(a.section) - sectionOrder.indexOf(b.section));
  }
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export function fmt(n: number, unit = ''): string {
  if (!Number.isFinite(n)) return '–';
  if (unit === 'ms') return n < 10 ? n.toFixed(2) : n.toFixed(1);
  if (unit === 'MiB' || unit === 'ratio') return n.toFixed(unit === 'ratio' ? 2 : 0);
  return grouped.format(Math.round(n));
}

function mbps(f: Figure): string {
  if (f.bytesPerRecord === undefined || f.unit !== 'records/s') return '';
  return (f.median * f.bytesPerRecord) / 1e6 >= 100
    ? fmt((f.median * f.bytesPerRecord) / 1e6)
    : ((f.median * f.bytesPerRecord) / 1e6).toFixed(1);
}

function spread(f: Figure): string {
  if (f.runs.length < 2) return '';
  return `${fmt(Math.min(...f.runs), f.unit)}–${fmt(Math.max(...f.runs), f.unit)}`;
}

/** The generated Markdown (what goes between the README markers). */
export function markdown(r: Results, jsonName: string, svgName: string): string {
  const lines: string[] = [];
  const when = r.startedAt.replace('T', ' ').slice(0, 16);
  lines.push(
    `Last run: ${when} UTC, ${r.mode === 'quick' ? '`--quick` smoke run' : 'full run'}, median of ${r.runs} run(s) per figure, ` +
      `${r.durationSeconds.toFixed(0)} s in all; ${r.machine.cpus} cores (${r.machine.cpuModel}), Node ${r.machine.node}, ` +
      `brokers from ${r.brokerRuntime}. Raw figures: [results/${jsonName}](results/${jsonName}).`,
    '',
    '### Headline ratios',
    '',
    '| ratio | value | from |',
    '|---|---:|---|',
  );
  for (const x of r.ratios) lines.push(`| ${x.label} | ${fmt(x.value, 'ratio')} | ${x.detail} |`);
  lines.push('', '### Targets of issue 7', '', '| target | measured | met |', '|---|---|---|');
  for (const t of r.targets) {
    lines.push(`| ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'met' : 'not met'} |`);
  }
  lines.push(
    '',
    '### All figures',
    '',
    '| | what | median | unit | MB/s | runs (min–max) | note |',
    '|---|---|---:|---|---:|---|---|',
  );
  let section = '';
  for (const f of r.figures) {
    const head = f.section === section ? '' : `**${f.section}**`;
    section = f.section;
    lines.push(
      `| ${head} | ${f.label} | ${fmt(f.median, f.unit)} | ${f.unit} | ${mbps(f)} | ${spread(f)} | ${f.note ?? ''} |`,
    );
  }
  for (const s of r.skipped) lines.push(`| **${s.section}** | ${s.what} | – | | | | ${s.reason} |`);
  lines.push(
    '',
    'MB/s counts record payload (value) bytes for Sluice and the peers, and bytes on the wire for the TCP ceiling.',
    '',
    `![throughput, log scale](results/${svgName})`,
  );
  return lines.join('\n');
}

const colors: Record<Section, string> = {
  Ceiling: '#9e9e9e',
  Sluice: '#1f77b4',
  'Sluice cluster': '#17becf',
  'Redis Streams': '#d62728',
  ActiveMQ: '#ff7f0e',
};

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Horizontal bars of every throughput figure (records/s, log scale), coloured by system. */
export function svgChart(r: Results): string {
  const figs = r.figures.filter((f) => f.unit === 'records/s' && Number.isFinite(f.median) && f.median > 0);
  const labelW = 500;
  const barW = 520;
  const rowH = 20;
  const top = 46;
  const width = labelW + barW + 110;
  const height = top + figs.length * rowH + 40;
  const maxV = Math.max(10, ...figs.map((f) => f.median));
  const minExp = 2;
  const maxExp = Math.ceil(Math.log10(maxV));
  const x = (v: number): number =>
    (Math.max(0, Math.log10(Math.max(v, 10 ** minExp)) - minExp) / (maxExp - minExp)) * barW;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>Sluice benchmark suite ${escapeXml(r.date)}: throughput of Sluice, its ceilings and its peers (records/s, log scale)</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Sluice benchmark suite, ${escapeXml(r.date)} (${r.mode}, median of ${r.runs}): records/s, log scale</text>`,
  );
  for (let e = minExp; e <= maxExp; e++) {
    const gx = labelW + x(10 ** e);
    out.push(
      `<line x1="${gx.toFixed(1)}" y1="${top - 6}" x2="${gx.toFixed(1)}" y2="${top + figs.length * rowH}" stroke="#dddddd"/>`,
      `<text x="${gx.toFixed(1)}" y="${top - 10}" text-anchor="middle" fill="#666666">${e >= 6 ? `${10 ** (e - 6)}M` : e >= 3 ? `${10 ** (e - 3)}k` : `${10 ** e}`}</text>`,
    );
  }
  figs.forEach((f, i) => {
    const y = top + i * rowH;
    const w = Math.max(1, x(f.median));
    out.push(
      `<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${escapeXml(`${f.section}: ${f.label}`)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colors[f.section]}"/>`,
      `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 14}">${fmt(f.median)}</text>`,
    );
  });
  const ly = top + figs.length * rowH + 24;
  let lx = 10;
  for (const [name, color] of Object.entries(colors)) {
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color}"/>`,
      `<text x="${lx + 16}" y="${ly}">${escapeXml(name)}</text>`,
    );
    lx += 24 + name.length * 7;
  }
  out.push('</svg>', '');
  return out.join('\n');
}

export const startMarker = '<!-- results:start -->';
export const endMarker = '<!-- results:end -->';

/** Replaces the text between the markers (inserting the markers before "## Optimisation log" when absent). */
export function updateReadme(file: string, generated: string): void {
  const block = `${startMarker}\n<!-- generated by \`npm run bench\` (benchmarks/suite.ts): edits between these markers are overwritten -->\n\n${generated}\n\n${endMarker}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const s = text.indexOf(startMarker);
  const e = text.indexOf(endMarker);
  if (s >= 0 && e > s) {
    text = text.slice(0, s) + block + text.slice(e + endMarker.length);
  } else {
    const log = text.indexOf('## Optimisation log');
    text =
      log >= 0
        ? `${text.slice(0, log)}## Latest results\n\n${block}\n\n${text.slice(log)}`
        : `${text.trimEnd()}\n\n## Latest results\n\n${block}\n`;
  }
  fs.writeFileSync(file, text);
}

/**
 * Writes `value` as JSON, then lets the repository's biome (with its config)
 * lay it out, so `npm run lint` passes on the results directory.
 */
export function writeJson(file: string, value: unknown, repoRoot: string): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  spawnSync(
    path.join(repoRoot, 'node_modules/.bin/biome'),
    ['format', '--config-path', path.join(repoRoot, 'scripts/biome.lint.json'), '--write', file],
    { cwd: repoRoot, stdio: 'ignore' },
  );
}
