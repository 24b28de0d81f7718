/**
 * FaceForensics++ indexer (including Google's DeepFakeDetection, distributed with it).
 *
 * Layout (as the official download script writes it):
 *   original_sequences/{youtube,actors}/<comp>/videos/*.mp4             REAL
 *   manipulated_sequences/<Method>/<comp>/videos/*.mp4                   FAKE, method = <Method>
 * with <comp> one of c0 (written `raw` by the download script; indexed as `c0`), c23, c40; `masks`
 * folders are not media and are skipped. Every method folder is indexed (Deepfakes, Face2Face,
 * FaceSwap, NeuralTextures, FaceShifter, DeepFakeDetection, and any newer one with the same naming).
 *
 * Names and groups:
 * - youtube `033.mp4`: `ffpp:033`; a fake `033_097.mp4` (target 033, face of 097): `ffpp:033+ffpp:097`.
 * - actors `01__talking_against_wall.mp4`: `dfd:01`; DeepFakeDetection `01_02__meeting_serious__YVGY8LOK.mp4`:
 *   `dfd:01+dfd:02`. These rows have dataset `dfd` (a different data set and id space); the others `ffpp`.
 *
 * Split: the official split files `train.json`, `val.json`, `test.json` (each a list of
 * [target, source] id pairs; from the FaceForensics repository's `dataset/splits`) in `<root>/splits`
 * or the folder given as `splitFrom`. A row gets the split that lists its ids; a row whose ids are
 * listed in different splits, or not listed at all, is `excluded`. Without split files, and always for
 * DFD (no official split exists), the leak-free default of group_split.ts is used.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { isMediaPath } from '../../pipeline/inputs.js';
import { DatasetIndexError, type IndexRow, type Split } from '../index_row.js';
import { isDirectory, keepReadable, listDirs, listFiles, stem } from './files.js';
import { DEFAULT_SPLIT_PERCENT, splitByGroupHash } from './group_split.js';
import type { IndexProblem, IndexReport } from './report.js';

export const FFPP_METHODS = ['Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures', 'FaceShifter', 'DeepFakeDetection'] as const;
const COMPRESSIONS: Record<string, string> = { raw: 'c0', c0: 'c0', c23: 'c23', c40: 'c40' };
const NOT_MEDIA_FOLDERS = new Set(['masks']);
const ORIGINAL_SOURCES = new Set(['youtube', 'actors']);

export interface FfppOptions {
  /** Folder with train.json / val.json / test.json; default `<root>/splits` when it exists. */
  splitFrom?: string;
}

type Parsed = { dataset: 'ffpp' | 'dfd'; ids: string[] } | null;

/** Identity ids from a file name, by the folder it is in; null when the name follows no rule. */
export function parseFfppName(folder: string, isOriginal: boolean, name: string): Parsed {
  const s = stem(name);
  let m: RegExpExecArray | null;
  if (isOriginal && folder === 'youtube') return (m = /^(\d+)$/.exec(s)) ? { dataset: 'ffpp', ids: [`ffpp:${m[1]}`] } : null;
  if (isOriginal && folder === 'actors') return (m = /^(\d+)__.+$/.exec(s)) ? { dataset: 'dfd', ids: [`dfd:${m[1]}`] } : null;
  if (!isOriginal && folder === 'DeepFakeDetection') {
    return (m = /^(\d+)_(\d+)__.+$/.exec(s)) ? { dataset: 'dfd', ids: [`dfd:${m[1]}`, `dfd:${m[2]}`] } : null;
  }
  if (!isOriginal) return (m = /^(\d+)_(\d+)$/.exec(s)) ? { dataset: 'ffpp', ids: [`ffpp:${m[1]}`, `ffpp:${m[2]}`] } : null;
  return null;
}

const SplitFileSchema = z.array(z.tuple([z.union([z.string(), z.number()]), z.union([z.string(), z.number()])]));

/** id (`ffpp:071`) -> split, from the three official files; a clear error when they are broken. */
export async function readFfppSplits(dir: string): Promise<Map<string, Split>> {
  const out = new Map<string, Split>();
  for (const split of ['train', 'val', 'test'] as const) {
    const path = join(dir, `${split}.json`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new DatasetIndexError(`FF++ split file missing: ${path} (need train.json, val.json and test.json)`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new DatasetIndexError(`FF++ split file ${path} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    const r = SplitFileSchema.safeParse(parsed);
    if (!r.success) throw new DatasetIndexError(`FF++ split file ${path} is not a list of [target, source] id pairs`);
    for (const pair of r.data) {
      for (const raw of pair) {
        // Numbers (if a tool rewrote the file) are padded back to the 3-digit file names.
        const id = `ffpp:${typeof raw === 'number' ? String(raw).padStart(3, '0') : raw}`;
        const had = out.get(id);
        if (had && had !== split) throw new DatasetIndexError(`FF++ split files put id ${id.slice(5)} in both ${had} and ${split}`);
        out.set(id, split);
      }
    }
  }
  return out;
}

function officialSplit(ids: string[], splits: Map<string, Split>): Split {
  const found = new Set(ids.map((id) => splits.get(id)));
  if (found.size === 1 && !found.has(undefined)) return [...found][0]!;
  return 'excluded';
}

export async function indexFfpp(root: string, options: FfppOptions = {}): Promise<IndexReport> {
  const problems: IndexProblem[] = [];
  const notes: string[] = [];
  const candidates: IndexRow[] = [];
  const tops = [
    { dir: join(root, 'original_sequences'), isOriginal: true },
    { dir: join(root, 'manipulated_sequences'), isOriginal: false },
  ];
  if (!(await isDirectory(tops[0].dir)) && !(await isDirectory(tops[1].dir))) {
    throw new DatasetIndexError(`not a FaceForensics++ folder: no original_sequences/ or manipulated_sequences/ in ${root}`);
  }
  for (const { dir, isOriginal } of tops) {
    for (const folder of await listDirs(dir)) {
      if (isOriginal && !ORIGINAL_SOURCES.has(folder)) {
        problems.push({ kind: 'unrecognised_name', path: join(dir, folder), detail: 'original source folder is neither youtube nor actors; not indexed' });
        continue;
      }
      for (const comp of await listDirs(join(dir, folder))) {
        if (NOT_MEDIA_FOLDERS.has(comp)) continue;
        const compDir = join(dir, folder, comp);
        const compression = COMPRESSIONS[comp];
        if (!compression) {
          problems.push({ kind: 'unrecognised_name', path: compDir, detail: 'not a compression folder (raw, c0, c23, c40); not indexed' });
          continue;
        }
        for (const f of (await listFiles(join(compDir, 'videos'))).filter(isMediaPath)) {
          const parsed = parseFfppName(folder, isOriginal, basename(f));
          if (!parsed) {
            problems.push({ kind: 'unrecognised_name', path: f, detail: `file name does not follow the FF++ ${folder} naming` });
            continue;
          }
          candidates.push({
            path: f,
            label: isOriginal ? 'REAL' : 'FAKE',
            dataset: parsed.dataset,
            split: 'train', // set below
            group: parsed.ids.join('+'),
            method: isOriginal ? '' : folder,
            compression,
          });
        }
      }
    }
  }

  const splitDir = options.splitFrom ? resolve(options.splitFrom) : join(root, 'splits');
  const official = options.splitFrom || (await isDirectory(splitDir)) ? await readFfppSplits(splitDir) : null;
  const defaultRule = `default split by identity component hash (${DEFAULT_SPLIT_PERCENT.train}/${DEFAULT_SPLIT_PERCENT.val}/${DEFAULT_SPLIT_PERCENT.test} train/val/test)`;
  const ffppRows = candidates.filter((r) => r.dataset === 'ffpp');
  const dfdRows = candidates.filter((r) => r.dataset === 'dfd');
  if (official) {
    for (const r of ffppRows) r.split = officialSplit(r.group.split('+'), official);
    const off = ffppRows.filter((r) => r.split === 'excluded').length;
    notes.push(`FF++ split from the official split files in ${splitDir}${off ? `; ${off} rows excluded (ids unlisted or on two sides)` : ''}`);
  } else {
    splitByGroupHash(ffppRows.map((r) => r.group)).forEach((s, i) => (ffppRows[i].split = s));
    if (ffppRows.length) notes.push(`no FF++ split files (looked in ${splitDir}): ${defaultRule}`);
  }
  splitByGroupHash(dfdRows.map((r) => r.group)).forEach((s, i) => (dfdRows[i].split = s));
  if (dfdRows.length) notes.push(`DeepFakeDetection / actors (dataset dfd) have no official split: ${defaultRule}`);

  const rows = await keepReadable(candidates, problems);
  return { rows, problems, notes };
}
