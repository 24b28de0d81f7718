/** Renders scan results for the terminal (table), as JSON, or as the DFDC-style CSV. */
import { stringify } from 'csv-stringify/sync';
import type { ScanResult } from '../pipeline/scan_result.js';
import { oneLine } from '../util/errors.js';

const pct = (p: number | null) => (p === null ? '-' : `${(p * 100).toFixed(1)}%`);

/** A fixed-width table: one row per input, then one indented row per face track. */
export function formatTable(results: ScanResult[], cwd = process.cwd()): string {
  const rows: string[][] = [['file', 'verdict', 'P(fake)', 'faces', 'frames', 'seconds']];
  for (const r of results) {
    const name = oneLine(r.file.startsWith(cwd + '/') ? r.file.slice(cwd.length + 1) : r.file);
    if (r.status === 'error') {
      rows.push([name, 'ERROR', '-', '-', '-', (r.timings.totalMs / 1000).toFixed(2)]);
      rows.push([`  ${r.error?.message ?? 'unknown error'}`, '', '', '', '', '']);
      continue;
    }
    rows.push([
      name,
      r.verdict ?? '-',
      pct(r.probability),
      String(r.tracks.length),
      `${r.framesDecoded}/${r.framesSampled}`,
      (r.timings.totalMs / 1000).toFixed(2),
    ]);
    if (r.tracks.length > 1) {
      for (const t of r.tracks) rows.push([`  face #${t.trackId} (frames ${t.firstFrame}-${t.lastFrame})`, '', pct(t.probability), '', String(t.frames), '']);
    }
    for (const w of r.warnings) rows.push([`  warning: ${w}`, '', '', '', '', '']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.filter((r) => !r[0].startsWith('  ') || c > 0).map((r) => r[c].length)));
  return rows
    .map((r) =>
      r[0].startsWith('  ') && r.slice(1).every((x) => x === '')
        ? r[0]
        : r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '),
    )
    .join('\n');
}

/** One JSON document: `{ schema, results: [...] }`. */
export function formatJson(results: ScanResult[]): string {
  return JSON.stringify({ schema: 'unmask.scan-batch/1', results }, null, 2);
}

/**
 * DFDC submission style: `filename,label` with label = P(fake). Inputs without a probability
 * (NO_FACE, errors) get an empty label, never a made-up 0.5, unless the caller names the number
 * (`missingLabel`, for a submission format that wants one for every file); the `verdict` column
 * says why either way.
 */
export function formatCsv(results: ScanResult[], missingLabel?: number): string {
  const basename = (p: string) => p.split('/').pop() ?? p;
  const label = (r: ScanResult) =>
    r.probability !== null ? r.probability.toFixed(6) : missingLabel === undefined ? '' : missingLabel.toFixed(6);
  return stringify([
    ['filename', 'label', 'verdict'],
    ...results.map((r) => [basename(r.file), label(r), r.status === 'error' ? `ERROR: ${r.error?.message}` : r.verdict]),
  ]);
}
