/**
 * Turns what the user named (files, directories, an index CSV) into a flat list of inputs, each
 * with a stable, unique, filesystem-safe key used for output names and result caching.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { IMAGE_EXTENSIONS } from '../media/probe.js';
import { URL_PATTERN } from '../util/errors.js';

/** Extensions picked up when a directory is scanned (explicitly named files are always tried). */
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.mov', '.avi', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv', '.flv', '.3gp', '.ts', '.gif', '.apng', '.h264', '.264', '.h265', '.265', '.hevc']);

export interface MediaInput {
  path: string;
  key: string;
  /** Extra columns carried through to outputs (label, dataset, split, group, method from an index). */
  meta?: Record<string, string>;
}

export function isMediaPath(p: string): boolean {
  const ext = extname(p).toLowerCase();
  return VIDEO_EXTENSIONS.has(ext) || IMAGE_EXTENSIONS.has(ext);
}

/** A relative path made safe as one file name: `a/b/c.mp4` -> `a__b__c.mp4`. */
export function keyFromRelative(rel: string): string {
  return rel
    .split(sep)
    .join('/')
    .split('/')
    .filter((s) => s && s !== '.' && s !== '..')
    .join('__')
    .replace(/[^A-Za-z0-9._+-]/g, '_');
}

/** Why a directory walk left a file out. */
export type SkipReason = 'extension' | 'broken-link' | 'not-a-file';

/** A file a directory walk left out. */
export interface SkippedFile {
  path: string;
  reason: SkipReason;
}

/** What a directory entry is, links followed: `broken` for a link to nothing. */
async function entryKind(p: string, e: Dirent): Promise<'dir' | 'file' | 'other' | 'broken'> {
  if (!e.isSymbolicLink()) return e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
  try {
    const st = await stat(p);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'broken';
  }
}

/**
 * Media files under `dir`, sorted by name at each level. Links are followed, to files and to
 * directories (data sets are often folders of links); `walked` holds the real paths of the
 * directories this walk has entered, so a link back up the tree (a loop) or to a directory already
 * walked adds nothing.
 */
async function walk(dir: string, skipped: ((file: SkippedFile) => void) | undefined, walked: Set<string>): Promise<string[]> {
  const real = await realpath(dir);
  if (walked.has(real)) return [];
  walked.add(real);
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = join(dir, e.name);
    const kind = await entryKind(p, e);
    if (kind === 'dir') out.push(...(await walk(p, skipped, walked)));
    else if (kind === 'file' && isMediaPath(p)) out.push(p);
    else if (e.name.startsWith('.')) continue; // hidden files, unless media, pass unmentioned
    else skipped?.({ path: p, reason: kind === 'file' ? 'extension' : kind === 'broken' ? 'broken-link' : 'not-a-file' });
  }
  return out;
}

/**
 * Expands paths: a directory yields its media files recursively (keys relative to it, prefixed by its
 * name; links followed); a file yields itself (even with an unknown extension, so the user gets a
 * clear error for it); a missing path is kept so the caller reports it as an error row. `skipped`
 * hears of every file a directory holds that is left out (hidden files aside: for its extension, a
 * broken link, a pipe, socket or device), so the caller can say so.
 */
export async function collectInputs(paths: string[], skipped?: (file: SkippedFile) => void): Promise<MediaInput[]> {
  const out: MediaInput[] = [];
  for (const p of paths) {
    // a URL stays as given, so its error names it (path.resolve would turn it into a local path)
    const abs = URL_PATTERN.test(p) ? p : resolve(p);
    let isDir = false;
    try {
      isDir = (await stat(abs)).isDirectory();
    } catch {
      /* missing: reported when processed */
    }
    if (isDir) {
      // each named directory is walked whole, even one named twice (its keys then get ~1 suffixes)
      for (const f of await walk(abs, skipped, new Set())) out.push({ path: f, key: keyFromRelative(join(basename(abs), relative(abs, f))) });
    } else out.push({ path: abs, key: keyFromRelative(basename(abs)) });
  }
  return uniqueKeys(out);
}

/** Inputs from index rows; keys are paths relative to the rows' common directory. */
export function inputsFromRows(rows: { path: string; [k: string]: string }[]): MediaInput[] {
  const abs = rows.map((r) => resolve(r.path));
  let common = abs.length ? dirname(abs[0]) : '';
  for (const p of abs) while (common && !(p + sep).startsWith(common + sep)) common = dirname(common) === common ? '' : dirname(common);
  return uniqueKeys(
    rows.map((r, i) => {
      const { path: _p, ...meta } = r;
      return { path: abs[i], key: keyFromRelative(relative(common || '/', abs[i])), meta };
    }),
  );
}

/** `collectInputs`, plus the one-line note on the files its directory walks left out (if any). */
export async function collectInputsWithNote(paths: string[]): Promise<{ inputs: MediaInput[]; skippedNote?: string }> {
  const skipped: SkippedFile[] = [];
  const inputs = await collectInputs(paths, (f) => skipped.push(f));
  return { inputs, skippedNote: skippedFilesNote(skipped) };
}

const SKIP_WORDS: Record<SkipReason, [string, string]> = {
  extension: ['file without a video or picture extension', 'files without a video or picture extension'],
  'broken-link': ['link to nothing', 'links to nothing'],
  'not-a-file': ['pipe, socket or device', 'pipes, sockets or devices'],
};

/** One line for the files a directory walk left out, by reason, or undefined when there were none. */
export function skippedFilesNote(skipped: readonly SkippedFile[]): string | undefined {
  if (!skipped.length) return undefined;
  const parts = (Object.keys(SKIP_WORDS) as SkipReason[]).flatMap((reason) => {
    const files = skipped.filter((f) => f.reason === reason).map((f) => f.path);
    if (!files.length) return [];
    const shown = files.slice(0, 3).map((p) => basename(p)).join(', ');
    const more = files.length > 3 ? `, ... (${files.length - 3} more)` : '';
    return [`${files.length} ${SKIP_WORDS[reason][files.length === 1 ? 0 : 1]}: ${shown}${more}`];
  });
  const hint = skipped.some((f) => f.reason === 'extension') ? '; name a file to read it anyway' : '';
  return `skipped ${parts.join('; ')}${hint}`;
}

function uniqueKeys(inputs: MediaInput[]): MediaInput[] {
  const seen = new Map<string, number>();
  return inputs.map((inp) => {
    const n = seen.get(inp.key) ?? 0;
    seen.set(inp.key, n + 1);
    return n === 0 ? inp : { ...inp, key: `${inp.key}~${n}` };
  });
}
