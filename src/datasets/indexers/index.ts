/**
 * Indexer registry: data set kind -> indexer, and `indexDataset`, the one entry point used by the
 * `unmask index` command and the library. Each kind's layout, labels, groups and split rule are
 * documented in its own module.
 */
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { InputNotFoundError, InvalidOptionError } from '../../util/errors.js';
import { DatasetIndexError } from '../index_row.js';
import { indexCelebDf } from './celebdf.js';
import { indexDevSet } from './dev.js';
import { indexDfdc } from './dfdc.js';
import { indexFfpp } from './ffpp.js';
import { indexFolder } from './folder.js';
import type { IndexProblem, IndexReport } from './report.js';

export const INDEX_KINDS = ['dfdc', 'ffpp', 'celebdf', 'folder', 'dev'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];

export interface IndexDatasetOptions {
  /**
   * Where the official split comes from, for the kinds that have one: `ffpp` a folder with
   * train.json / val.json / test.json (default `<root>/splits`), `celebdf` the testing list
   * (default `<root>/List_of_testing_videos.txt`). Other kinds take none.
   */
  splitFrom?: string;
}

interface IndexerEntry {
  describe: string;
  takesSplitFrom: boolean;
  run: (root: string, isCsv: boolean, options: IndexDatasetOptions) => Promise<IndexReport>;
}

export const INDEXERS: Record<IndexKind, IndexerEntry> = {
  dfdc: { describe: 'DFDC: dfdc_train_part_N/metadata.json, or one flat folder with metadata.json', takesSplitFrom: false, run: (root) => indexDfdc(root) },
  ffpp: {
    describe: 'FaceForensics++: original_sequences/ and manipulated_sequences/ (+ splits/*.json)',
    takesSplitFrom: true,
    run: (root, _csv, o) => indexFfpp(root, o),
  },
  celebdf: { describe: 'Celeb-DF: Celeb-real/, Celeb-synthesis/, YouTube-real/, List_of_testing_videos.txt', takesSplitFrom: true, run: (root, _csv, o) => indexCelebDf(root, o) },
  folder: { describe: 'any tree with real/fake folder names, or a CSV of file,label', takesSplitFrom: false, run: (root, isCsv) => indexFolder(root, isCsv) },
  dev: { describe: "the project's development set (../shared/data)", takesSplitFrom: false, run: (root) => indexDevSet(root) },
};

/** Keeps the first row per path; later ones become `duplicate_entry` problems. */
function dropDuplicates(report: IndexReport): IndexReport {
  const seen = new Set<string>();
  const problems: IndexProblem[] = [...report.problems];
  const rows = report.rows.filter((r) => {
    if (!seen.has(r.path)) return seen.add(r.path), true;
    problems.push({ kind: 'duplicate_entry', path: r.path, detail: 'listed more than once; first entry kept' });
    return false;
  });
  return { ...report, rows, problems };
}

/**
 * Index a data set copy in place (nothing is copied or decoded). Throws a one-line UnmaskError when
 * the root is missing, is not the layout of `kind`, or yields no row at all; files that cannot be
 * indexed are returned as `problems`, never dropped silently. Rows are sorted by path.
 */
export async function indexDataset(kind: IndexKind, root: string, options: IndexDatasetOptions = {}): Promise<IndexReport> {
  const entry = INDEXERS[kind];
  if (!entry) throw new InvalidOptionError(`unknown data set kind '${kind}'; one of ${INDEX_KINDS.join(', ')}`);
  if (options.splitFrom && !entry.takesSplitFrom) throw new InvalidOptionError(`kind '${kind}' takes no split file (--split-from is for ffpp and celebdf)`);
  const abs = resolve(root);
  let isDir: boolean;
  try {
    isDir = (await stat(abs)).isDirectory();
  } catch {
    throw new InputNotFoundError(abs);
  }
  const isCsv = !isDir && extname(abs).toLowerCase() === '.csv';
  if (!isDir && !(kind === 'folder' && isCsv)) {
    throw new DatasetIndexError(`${abs} is not a folder${kind === 'folder' ? ' or a .csv file' : ''}`);
  }
  const report = dropDuplicates(await entry.run(abs, isCsv, options));
  report.rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!report.rows.length) {
    const first = report.problems[0];
    const why = first ? `; ${report.problems.length} problem(s), first: ${first.kind} ${first.path} (${first.detail})` : '';
    throw new DatasetIndexError(`no labelled media found under ${abs} for kind '${kind}'${why}`);
  }
  return report;
}

export type { IndexProblem, IndexProblemKind, IndexReport } from './report.js';
export { INDEX_PROBLEM_KINDS, formatIndexSummary } from './report.js';
