/**
 * What an indexer returns: the rows it could index, and every file it could not, with the reason.
 * Nothing is dropped silently: a file listed by a data set's metadata but absent, empty or
 * unreadable, a metadata file that does not parse, a label that is neither real nor fake, a media
 * file that no metadata labels, is a `problem` here and in the command's summary.
 */
import type { IndexRow } from '../index_row.js';

export const INDEX_PROBLEM_KINDS = [
  /** Listed by the data set's metadata (or a CSV), not on disk. */
  'missing_file',
  /** Zero bytes. */
  'empty_file',
  /** Exists but cannot be read (permissions) or is not a regular file. */
  'unreadable_file',
  /** A metadata / list / CSV file that does not parse, or an entry in it with the wrong shape. */
  'invalid_metadata',
  /** A label that is none of the data set's real/fake spellings. */
  'unknown_label',
  /** A media file in a folder whose metadata does not list it. */
  'unlisted_file',
  /** A media file that no metadata, folder name or CSV row labels. */
  'no_label',
  /** A file or folder name the data set's naming rules do not explain (no identity can be derived). */
  'unrecognised_name',
  /** Two sources disagree on the label (e.g. Celeb-DF's test list vs. its folder); the folder's label is kept. */
  'label_conflict',
  /** The same file listed twice; the first entry is kept. */
  'duplicate_entry',
] as const;
export type IndexProblemKind = (typeof INDEX_PROBLEM_KINDS)[number];

export interface IndexProblem {
  kind: IndexProblemKind;
  /** Absolute path of the file (or metadata file / folder) concerned. */
  path: string;
  detail: string;
}

export interface IndexReport {
  /** Indexed rows, sorted by path. */
  rows: IndexRow[];
  /**
   * Files not indexed, and why. Two kinds flag doubt about a row that is still in `rows`:
   * `label_conflict`, and a Celeb-DF testing-list `unknown_label` (the folder gives the label).
   */
  problems: IndexProblem[];
  /** How defaults were applied (e.g. which split rule), for the user to read. */
  notes: string[];
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

/**
 * Human-readable summary: rows per split / data set / label, then problems per kind with the first
 * `maxPaths` paths of each, then notes.
 */
export function formatIndexSummary(report: IndexReport, maxPaths = 5): string {
  const lines: string[] = [`indexed ${report.rows.length} files`];
  const counts = countBy(report.rows, (r) => `${r.split}\t${r.dataset}\t${r.label}`);
  lines.push('  split\tdataset\tlabel\tfiles');
  for (const [k, n] of [...counts.entries()].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${k}\t${n}`);
  if (report.problems.length) {
    lines.push(`problems: ${report.problems.length} files not indexed or doubtful`);
    for (const kind of INDEX_PROBLEM_KINDS) {
      const of = report.problems.filter((p) => p.kind === kind);
      if (!of.length) continue;
      lines.push(`  ${kind}: ${of.length}`);
      for (const p of of.slice(0, maxPaths)) lines.push(`    ${p.path} (${p.detail})`);
      if (of.length > maxPaths) lines.push(`    ... and ${of.length - maxPaths} more`);
    }
  } else lines.push('problems: none');
  for (const n of report.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}
