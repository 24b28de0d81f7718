/**
 * Indexer for a user's own data: a folder tree whose folder names say real or fake, or a CSV.
 *
 * Tree: each media file (video or image extension) under the root is labelled by the folder names
 * between the root and the file, split into words at any non-letter/digit (`Celeb-real` -> celeb,
 * real), case-insensitively:
 *   REAL: real, reals, original, originals, pristine
 *   FAKE: fake, fakes, manipulated, deepfake, deepfakes
 * (the words data sets use for their folders: FF++'s original_/manipulated_sequences, Celeb-DF's
 * Celeb-real). File names are not read, and folders above the root do not count. A file with
 * no such word, or with words of both kinds, is reported (`no_label`), not guessed.
 * Split: a folder word train/training, val/valid/validation, test/testing (the outermost wins);
 * otherwise `test` (a folder indexed this way is most often something to evaluate).
 * dataset = the root folder's name; group = `<dataset>:<relative path without extension>` (each file
 * its own identity: a tree says nothing about who is in it, so no leak protection is possible).
 *
 * CSV: a header with `file` (or `path` / `filename`) and `label`; labels REAL/FAKE in any case, or
 * 1 = FAKE and 0 = REAL (the usual "positive = fake" convention; note Celeb-DF's list is the reverse).
 * Relative paths resolve against the CSV's folder. Optional columns `split`, `group`, `method`,
 * `compression`, `dataset` are taken as given; defaults as for a tree (dataset = the CSV's folder name).
 */
import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import { isMediaPath } from '../../pipeline/inputs.js';
import { DatasetIndexError, readCsvRecords, SPLITS, type IndexRow, type Label, type Split } from '../index_row.js';
import { keepReadable, listFiles } from './files.js';
import type { IndexProblem, IndexReport } from './report.js';

export const REAL_WORDS = ['real', 'reals', 'original', 'originals', 'pristine'] as const;
export const FAKE_WORDS = ['fake', 'fakes', 'manipulated', 'deepfake', 'deepfakes'] as const;
const SPLIT_WORDS: Record<string, Split> = { train: 'train', training: 'train', val: 'val', valid: 'val', validation: 'val', test: 'test', testing: 'test' };
const DEFAULT_SPLIT: Split = 'test';

function words(component: string): string[] {
  return component.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/** Label and split from the folder components of a relative path. */
export function labelFromFolders(folders: readonly string[]): { label: Label | null; ambiguous: string; split: Split } {
  const reals = folders.filter((c) => words(c).some((w) => (REAL_WORDS as readonly string[]).includes(w)));
  const fakes = folders.filter((c) => words(c).some((w) => (FAKE_WORDS as readonly string[]).includes(w)));
  let split: Split | undefined;
  for (const c of folders) {
    split = words(c).map((w) => SPLIT_WORDS[w]).find(Boolean);
    if (split) break;
  }
  const ambiguous = reals.length && fakes.length ? `path says both real (${reals[0]}) and fake (${fakes[0]})` : '';
  const label: Label | null = ambiguous ? null : reals.length ? 'REAL' : fakes.length ? 'FAKE' : null;
  return { label, ambiguous, split: split ?? DEFAULT_SPLIT };
}

function withoutExtension(rel: string): string {
  return rel.slice(0, rel.length - extname(rel).length).split(sep).join('/');
}

async function indexTree(root: string): Promise<IndexReport> {
  const problems: IndexProblem[] = [];
  const candidates: IndexRow[] = [];
  const dataset = basename(root) || 'folder';
  for (const f of (await listFiles(root)).filter(isMediaPath)) {
    const rel = relative(root, f);
    const { label, ambiguous, split } = labelFromFolders(rel.split(sep).slice(0, -1));
    if (!label) {
      problems.push({ kind: 'no_label', path: f, detail: ambiguous || 'no real/fake folder name on its path' });
      continue;
    }
    candidates.push({ path: f, label, dataset, split, group: `${dataset}:${withoutExtension(rel)}`, method: '', compression: '' });
  }
  return {
    rows: await keepReadable(candidates, problems),
    problems,
    notes: [`labels from folder names; split from train/val/test folder names, else '${DEFAULT_SPLIT}'; each file its own group`],
  };
}

/** REAL/FAKE in any case, 1 = FAKE, 0 = REAL; null otherwise. */
export function parseCsvLabel(raw: string): Label | null {
  const t = raw.trim().toUpperCase();
  if (t === 'REAL' || t === '0') return 'REAL';
  if (t === 'FAKE' || t === '1') return 'FAKE';
  return null;
}

async function indexCsv(csvPath: string): Promise<IndexReport> {
  const base = dirname(csvPath);
  const recs = await readCsvRecords(csvPath);
  const header = recs.length ? Object.keys(recs[0]) : [];
  const fileCol = ['file', 'path', 'filename'].find((c) => header.includes(c));
  if (recs.length && (!fileCol || !header.includes('label'))) {
    throw new DatasetIndexError(`${csvPath}: needs a header with 'file' (or 'path' / 'filename') and 'label' columns, got: ${header.join(',')}`);
  }
  const problems: IndexProblem[] = [];
  const candidates: IndexRow[] = [];
  recs.forEach((rec, i) => {
    const where = `${csvPath}:${i + 2}`;
    const file = (rec[fileCol!] ?? '').trim();
    if (!file) {
      problems.push({ kind: 'invalid_metadata', path: where, detail: 'empty file name' });
      return;
    }
    const path = resolve(base, file);
    const label = parseCsvLabel(rec['label'] ?? '');
    if (!label) {
      problems.push({ kind: 'unknown_label', path, detail: `label '${rec['label'] ?? ''}' is none of REAL, FAKE, 0, 1 (${where})` });
      return;
    }
    const split = (rec['split'] || DEFAULT_SPLIT) as Split;
    if (!(SPLITS as readonly string[]).includes(split)) {
      problems.push({ kind: 'invalid_metadata', path, detail: `split '${split}' is none of ${SPLITS.join(', ')} (${where})` });
      return;
    }
    const dataset = rec['dataset'] || basename(base) || 'folder';
    candidates.push({
      path,
      label,
      dataset,
      split,
      group: rec['group'] || `${dataset}:${withoutExtension(relative(base, path))}`,
      method: rec['method'] ?? '',
      compression: rec['compression'] ?? '',
    });
  });
  return {
    rows: await keepReadable(candidates, problems),
    problems,
    notes: [`rows from ${csvPath}; paths relative to its folder`],
  };
}

/** `root` is a folder tree or a `.csv` file. */
export async function indexFolder(root: string, isCsv: boolean): Promise<IndexReport> {
  return isCsv ? indexCsv(root) : indexTree(root);
}
