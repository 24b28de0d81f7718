/**
 * Celeb-DF (v1 and v2) indexer.
 *
 * Layout: `Celeb-real/` (REAL, `id0_0000.mp4`: celebrity id0), `YouTube-real/` (REAL, `00000.mp4`:
 * an unnamed person per video), `Celeb-synthesis/` (FAKE, `id0_id16_0000.mp4`: video id0_0000 with
 * the face of id16), and `List_of_testing_videos.txt`. Folder names match case-insensitively;
 * media may also sit one level deeper (`Celeb-real/videos/*.mp4`, as some preprocessing repos keep it).
 *
 * List_of_testing_videos.txt: one `<label> <folder>/<file>` per line, label `1` = real and `0` = fake
 * (Celeb-DF's own convention, the opposite of "1 = fake" used elsewhere, e.g. DFDC submissions).
 * Listed videos are `test`, the rest `train`. A list label that contradicts the folder is reported as
 * `label_conflict` (the folder's label is kept); a listed file that is absent is `missing_file`.
 * Without the list (none at the default place and no `splitFrom`), every row is `test`: Celeb-DF is
 * mostly used as a cross-dataset test set. The official test list is a per-video split: the same
 * celebrities appear in train and test, so use `group` if identity-disjoint sets are needed.
 *
 * Groups: `celebdf:id0` (Celeb-real), `celebdf:id0+celebdf:id16` (Celeb-synthesis),
 * `celebdf_yt:00000` (YouTube-real). method and compression: empty.
 */
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isMediaPath } from '../../pipeline/inputs.js';
import { DatasetIndexError, type IndexRow, type Label } from '../index_row.js';
import { isFile, keepReadable, listDirs, listFiles, stem } from './files.js';
import type { IndexProblem, IndexReport } from './report.js';

export const CELEBDF_TEST_LIST = 'List_of_testing_videos.txt';

type FolderKind = 'celeb-real' | 'youtube-real' | 'celeb-synthesis';
const FOLDER_LABEL: Record<FolderKind, Label> = { 'celeb-real': 'REAL', 'youtube-real': 'REAL', 'celeb-synthesis': 'FAKE' };

export interface CelebDfOptions {
  /** The testing list; default `<root>/List_of_testing_videos.txt` when it exists. */
  splitFrom?: string;
}

/** Identity ids from a file name in a Celeb-DF folder; null when the name follows no rule. */
export function parseCelebDfName(folder: FolderKind, name: string): string[] | null {
  const s = stem(name);
  let m: RegExpExecArray | null;
  if (folder === 'celeb-real') return (m = /^(id\d+)_\d+$/.exec(s)) ? [`celebdf:${m[1]}`] : null;
  if (folder === 'celeb-synthesis') return (m = /^(id\d+)_(id\d+)_\d+$/.exec(s)) ? [`celebdf:${m[1]}`, `celebdf:${m[2]}`] : null;
  return (m = /^(\d+)$/.exec(s)) ? [`celebdf_yt:${m[1]}`] : null;
}

/** Lookup key shared by list entries and files: lower-cased top folder + file name. */
function key(folder: string, name: string): string {
  return `${folder.toLowerCase()}/${name}`;
}

interface ListEntry {
  /** null when the line's label is neither 0 nor 1 (reported; the video is still test). */
  label: Label | null;
  path: string;
}

/** Parses the testing list: key -> {label, path}; malformed lines and labels go to `problems`. */
async function readTestList(path: string, root: string, problems: IndexProblem[]): Promise<Map<string, ListEntry>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new DatasetIndexError(`cannot read Celeb-DF testing list ${path}`);
  }
  const out = new Map<string, ListEntry>();
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    const m = /^(\S+)\s+(\S.*)$/.exec(t);
    if (!m) {
      problems.push({ kind: 'invalid_metadata', path: `${path}:${i + 1}`, detail: `line '${t}' is not '<label> <path>'` });
      return;
    }
    const rel = m[2].trim().replace(/\\/g, '/');
    const abs = resolve(root, rel);
    const known = m[1] === '0' || m[1] === '1';
    if (!known) problems.push({ kind: 'unknown_label', path: abs, detail: `testing list label '${m[1]}' is neither 1 (real) nor 0 (fake); folder label used` });
    const parts = rel.split('/').filter(Boolean);
    const k = key(parts[0] ?? '', parts[parts.length - 1] ?? '');
    if (out.has(k)) {
      problems.push({ kind: 'duplicate_entry', path: abs, detail: `listed twice in ${basename(path)}` });
      return;
    }
    out.set(k, { label: known ? (m[1] === '1' ? 'REAL' : 'FAKE') : null, path: abs });
  });
  return out;
}

export async function indexCelebDf(root: string, options: CelebDfOptions = {}): Promise<IndexReport> {
  const problems: IndexProblem[] = [];
  const notes: string[] = [];
  const folders = (await listDirs(root))
    .map((name) => ({ name, kind: name.toLowerCase() as FolderKind }))
    .filter((f) => f.kind in FOLDER_LABEL);
  if (!folders.length) throw new DatasetIndexError(`not a Celeb-DF folder: no Celeb-real/, Celeb-synthesis/ or YouTube-real/ in ${root}`);

  const listPath = options.splitFrom ? resolve(options.splitFrom) : join(root, CELEBDF_TEST_LIST);
  const hasList = Boolean(options.splitFrom) || (await isFile(listPath));
  const testList = hasList ? await readTestList(listPath, root, problems) : new Map<string, ListEntry>();
  notes.push(
    hasList
      ? `split: the ${testList.size} videos of ${listPath} are test (label 1 = real, 0 = fake), the rest train`
      : `no ${CELEBDF_TEST_LIST} (looked for ${listPath}): every row is split 'test'`,
  );

  const candidates: IndexRow[] = [];
  const seen = new Set<string>();
  for (const folder of folders) {
    for (const f of (await listFiles(join(root, folder.name))).filter(isMediaPath)) {
      const ids = parseCelebDfName(folder.kind, basename(f));
      const k = key(folder.name, basename(f));
      seen.add(k);
      if (!ids) {
        problems.push({ kind: 'unrecognised_name', path: f, detail: `file name does not follow the Celeb-DF ${folder.name} naming` });
        continue;
      }
      const label = FOLDER_LABEL[folder.kind];
      const listed = testList.get(k);
      if (listed?.label && listed.label !== label) {
        problems.push({ kind: 'label_conflict', path: f, detail: `testing list says ${listed.label}, folder ${folder.name} says ${label}; kept ${label}` });
      }
      candidates.push({
        path: f,
        label,
        dataset: 'celebdf',
        split: !hasList || listed ? 'test' : 'train',
        group: ids.join('+'),
        method: '',
        compression: '',
      });
    }
  }
  for (const [k, entry] of testList) {
    if (!seen.has(k)) problems.push({ kind: 'missing_file', path: entry.path, detail: `in ${basename(listPath)} but not on disk` });
  }
  const rows = await keepReadable(candidates, problems);
  return { rows, problems, notes };
}
