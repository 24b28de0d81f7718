/**
 * DFDC (Deepfake Detection Challenge, Kaggle) indexer.
 *
 * Layouts: `<root>/dfdc_train_part_N/metadata.json` (the full training set, N = 0..49), a flat
 * folder with one `metadata.json` (Kaggle's `train_sample_videos`), or both; every `metadata.json`
 * under the root is read. metadata.json maps a file name to `{label: REAL|FAKE, original, split}`;
 * `original` is the real video a fake was made from.
 *
 * - split: the ICPR2020 paper's folder split: parts 0-34 `train`, 35-39 `val`, 40-49 (and higher)
 *   `test`. A folder without a part number (`train_sample_videos`) is `test`: it is a sample for
 *   evaluation, and there is no part to place it by. The metadata's own `split` field is always
 *   `train` in the Kaggle release and is ignored.
 * - group: `dfdc:<original>` for a fake, `dfdc:<itself>` for a real video, so a real video and every
 *   fake made from it share a group. (A fake without `original` is its own group.)
 * - method and compression: not disclosed by DFDC, left empty.
 *
 * Unlike ICPR2020's `index_dfdc.py`, which parses a part number out of every metadata folder's name
 * and fails on `train_sample_videos`, folder names here only choose the split.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMediaPath } from '../../pipeline/inputs.js';
import { DatasetIndexError, type IndexRow, type Split } from '../index_row.js';
import { keepReadable, listFiles, stem } from './files.js';
import type { IndexProblem, IndexReport } from './report.js';

const PART = /^dfdc_train_part_(\d+)$/;

/** ICPR2020 (Bonettini et al.): parts 0-34 train, 35-39 val, 40-49 test. */
export function dfdcSplitForPart(part: number): Split {
  if (part < 35) return 'train';
  if (part < 40) return 'val';
  return 'test';
}

/** The split of a folder holding a metadata.json, and whether it had a part number. */
function folderSplit(dir: string): { split: Split; part: number | null } {
  const m = PART.exec(basename(dir));
  if (!m) return { split: 'test', part: null };
  const part = Number(m[1]);
  return { split: dfdcSplitForPart(part), part };
}

type MetadataEntries = Array<[string, unknown]>;

async function readMetadata(path: string): Promise<MetadataEntries | string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    return `not valid JSON: ${(e as Error).message.split('\n')[0]}`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'not a JSON object of file name -> {label, original}';
  return Object.entries(parsed as Record<string, unknown>);
}

function entryRow(dir: string, name: string, value: unknown, split: Split, problems: IndexProblem[]): IndexRow | null {
  const path = join(dir, name);
  if (value === null || typeof value !== 'object' || name.includes('/') || name.includes('\\')) {
    problems.push({ kind: 'invalid_metadata', path, detail: `metadata entry for '${name}' is not {label, original}` });
    return null;
  }
  const v = value as { label?: unknown; original?: unknown };
  const label = typeof v.label === 'string' ? v.label.trim().toUpperCase() : '';
  if (label !== 'REAL' && label !== 'FAKE') {
    problems.push({ kind: 'unknown_label', path, detail: `label ${JSON.stringify(v.label ?? null)} is neither REAL nor FAKE` });
    return null;
  }
  const original = typeof v.original === 'string' ? stem(v.original) : '';
  const group = `dfdc:${label === 'FAKE' && original ? original : stem(name)}`;
  return { path, label, dataset: 'dfdc', split, group, method: '', compression: '' };
}

export async function indexDfdc(root: string): Promise<IndexReport> {
  const files = await listFiles(root);
  const metadataFiles = files.filter((f) => basename(f) === 'metadata.json');
  if (!metadataFiles.length) throw new DatasetIndexError(`not a DFDC folder: no metadata.json under ${root}`);

  const problems: IndexProblem[] = [];
  const notes: string[] = [];
  const candidates: IndexRow[] = [];
  const listed = new Set<string>();
  const labelledDirs = new Set<string>();
  const invalidDirs = new Set<string>();
  const flatDirs: string[] = [];

  for (const meta of metadataFiles) {
    const dir = dirname(meta);
    const entries = await readMetadata(meta);
    if (typeof entries === 'string') {
      problems.push({ kind: 'invalid_metadata', path: meta, detail: entries });
      invalidDirs.add(dir);
      continue;
    }
    labelledDirs.add(dir);
    const { split, part } = folderSplit(dir);
    if (part === null) flatDirs.push(dir);
    for (const [name, value] of entries) {
      listed.add(join(dir, name));
      const row = entryRow(dir, name, value, split, problems);
      if (row) candidates.push(row);
    }
  }

  // Media that no metadata.json lists: reported, never silently left out.
  for (const f of files) {
    if (listed.has(f) || !isMediaPath(f)) continue;
    const dir = dirname(f);
    if (labelledDirs.has(dir)) problems.push({ kind: 'unlisted_file', path: f, detail: 'not in its folder\'s metadata.json' });
    else if (invalidDirs.has(dir)) problems.push({ kind: 'no_label', path: f, detail: 'its folder\'s metadata.json is invalid' });
    else problems.push({ kind: 'no_label', path: f, detail: 'no metadata.json in its folder' });
  }

  if (flatDirs.length) {
    notes.push(
      `${flatDirs.length} metadata folder(s) without a part number (e.g. ${flatDirs[0]}): split 'test' ` +
        '(the ICPR2020 split 0-34/35-39/40-49 needs dfdc_train_part_N folders)',
    );
  }
  const rows = await keepReadable(candidates, problems);
  return { rows, problems, notes };
}
