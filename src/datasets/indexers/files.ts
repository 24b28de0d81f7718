/** File-system helpers shared by the indexers: recursive listing and the readable-file check. */
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import pLimit from 'p-limit';
import type { IndexRow } from '../index_row.js';
import type { IndexProblem } from './report.js';

/** `dir/xyz.mp4` -> `xyz`. */
export function stem(file: string): string {
  const b = basename(file);
  return b.slice(0, b.length - extname(b).length);
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Sub-folder names of `dir` (symlinks to folders included), sorted; [] when `dir` is not a folder. */
export async function listDirs(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory() || (e.isSymbolicLink() && (await isDirectory(join(dir, e.name))))) out.push(e.name);
  }
  return out.sort();
}

/** Deep enough for any data set layout, shallow enough to stop a symlink loop. */
const MAX_DEPTH = 24;

/**
 * Every file under `dir`, recursively, as absolute paths in a stable order. Symlinks are followed
 * (data sets are often linked in from another disk); hidden entries (`.DS_Store`, `.git`) are skipped.
 */
export async function listFiles(dir: string, depth = 0): Promise<string[]> {
  if (depth > MAX_DEPTH) return [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFileEntry = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const s = await stat(p);
        isDir = s.isDirectory();
        isFileEntry = s.isFile();
      } catch {
        isFileEntry = true; // a dangling link: listed, so the readable check reports it
      }
    }
    if (isDir) out.push(...(await listFiles(p, depth + 1)));
    else if (isFileEntry) out.push(p);
  }
  return out;
}

/** Why `path` cannot be indexed, or null when it is a readable, non-empty regular file. */
export async function fileProblem(path: string): Promise<IndexProblem | null> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return { kind: 'unreadable_file', path, detail: 'not a regular file' };
    size = s.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing_file', path, detail: 'listed but not on disk' };
    return { kind: 'unreadable_file', path, detail: code ?? 'stat failed' };
  }
  if (size === 0) return { kind: 'empty_file', path, detail: '0 bytes' };
  try {
    await access(path, constants.R_OK);
  } catch {
    return { kind: 'unreadable_file', path, detail: 'no read permission' };
  }
  return null;
}

/**
 * The candidate rows whose files are readable and non-empty; the others go to `problems`.
 * Checks run a few at a time (a data set can hold 100k+ files).
 */
export async function keepReadable(candidates: readonly IndexRow[], problems: IndexProblem[]): Promise<IndexRow[]> {
  const limit = pLimit(32);
  const found = await Promise.all(candidates.map((r) => limit(() => fileProblem(r.path))));
  const kept: IndexRow[] = [];
  candidates.forEach((r, i) => {
    const p = found[i];
    if (p) problems.push(p);
    else kept.push(r);
  });
  return kept;
}
