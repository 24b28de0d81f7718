/**
 * Turns what the user named (files, directories, an index CSV) into a flat list of inputs, each
 * with a stable, unique, filesystem-safe key used for output names and result caching.
 */
import { readdir, stat } from 'node:fs/promises';
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

async function walk(dir: string, skipped?: (path: string) => void): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, skipped)));
    else if (e.isFile() && isMediaPath(p)) out.push(p);
    else if (e.isFile() && !e.name.startsWith('.')) skipped?.(p);
  }
  return out;
}

/**
 * Expands paths: a directory yields its media files recursively (keys relative to it, prefixed by its
 * name); a file yields itself (even with an unknown extension, so the user gets a clear error for it);
 * a missing path is kept so the caller reports it as an error row. `skipped` hears of every file a
 * directory holds that is left out for its extension (hidden files aside), so the caller can say so.
 */
export async function collectInputs(paths: string[], skipped?: (path: string) => void): Promise<MediaInput[]> {
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
      for (const f of await walk(abs, skipped)) out.push({ path: f, key: keyFromRelative(join(basename(abs), relative(abs, f))) });
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
  const skipped: string[] = [];
  const inputs = await collectInputs(paths, (p) => skipped.push(p));
  return { inputs, skippedNote: skippedFilesNote(skipped) };
}

/** One line for the files a directory walk left out, or undefined when there were none. */
export function skippedFilesNote(skipped: readonly string[]): string | undefined {
  if (!skipped.length) return undefined;
  const shown = skipped.slice(0, 3).map((p) => basename(p)).join(', ');
  const more = skipped.length > 3 ? `, ... (${skipped.length - 3} more)` : '';
  const files = skipped.length === 1 ? 'file' : 'files';
  return `skipped ${skipped.length} ${files} without a video or picture extension: ${shown}${more}; name a file to read it anyway`;
}

function uniqueKeys(inputs: MediaInput[]): MediaInput[] {
  const seen = new Map<string, number>();
  return inputs.map((inp) => {
    const n = seen.get(inp.key) ?? 0;
    seen.set(inp.key, n + 1);
    return n === 0 ? inp : { ...inp, key: `${inp.key}~${n}` };
  });
}
