/**
 * Scans the rows of an index with one Scanner, through a resumable cache.
 *
 * Cache: `<out>/cache/<fingerprint>.jsonl`, one line per scanned input
 * `{path, size, mtimeMs, result: ScanResult}`, appended as soon as the scan ends, so an
 * interrupted run keeps everything it finished (a torn last line is ignored). The fingerprint
 * hashes what changes the face scores: each model's manifest and ONNX bytes (in order), the
 * sampling, detector and tracker options, and unmask's version. The aggregation strategy is not in it: evaluation redoes
 * aggregation from the cached face scores. An entry is used only if the file's size and mtime are
 * unchanged (a missing file's NOT_FOUND only while it is still missing). No database, no
 * dependency: a re-run with the same models and options scans nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadManifest } from '../models/manifest.js';
import { DEFAULT_FACE_DETECTOR_OPTIONS } from '../faces/face_detector_options.js';
import { DEFAULT_TRACKER_OPTIONS } from '../faces/tracker.js';
import { packageRoot, resolveModelsNamed } from '../models/registry.js';
import type { ScanOptions } from '../pipeline/scanner.js';
import { scanMany } from '../pipeline/scan_many.js';
import { Scanner } from '../pipeline/scanner.js';
import type { ScanResult } from '../pipeline/scan_result.js';
import type { ModelEntry } from './eval_results.js';
import { modelKeys, type EvalInput, type EvalRow } from './evaluate.js';

/** A model of the run, resolved and read. */
export interface RunModel {
  entry: ModelEntry;
  manifestPath: string;
  /** sha256 of the manifest bytes + the ONNX bytes. */
  sha256: string;
}

async function sha256Of(paths: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const p of paths) {
    await new Promise<void>((res, rej) => {
      createReadStream(p)
        .on('data', (d) => h.update(d))
        .on('end', res)
        .on('error', rej);
    });
  }
  return h.digest('hex');
}

/**
 * Resolves each model argument (shipped name or manifest path; none = the default model) and reads
 * its manifest. Throws the registry's / manifest's one-line errors (unknown model, bad manifest).
 */
export async function resolveRunModels(args: readonly string[]): Promise<RunModel[]> {
  const named = await resolveModelsNamed(args); // ensemble manifests count as their members, and keep their name
  const loaded = await Promise.all(named.map((m) => loadManifest(m.path)));
  const keys = modelKeys(loaded.map((l) => l.manifest));
  return Promise.all(
    loaded.map(async (l, i) => ({
      manifestPath: l.manifestPath,
      sha256: await sha256Of([l.manifestPath, l.onnxPath]).catch(() => sha256Of([l.manifestPath])),
      entry: {
        key: keys[i],
        name: l.manifest.name,
        version: l.manifest.version,
        manifest: l.manifestPath,
        band: l.manifest.decision,
        temperature: l.manifest.calibration.temperature,
        kind: l.manifest.kind,
        ...(named[i].ensemble ? { ensemble: named[i].ensemble } : {}),
        ...(named[i].weighting.weight !== 1 || named[i].weighting.bias !== 0 ? { weight: named[i].weighting.weight, bias: named[i].weighting.bias } : {}),
        ...(named[i].ensembleBand ? { ensembleBand: named[i].ensembleBand } : {}),
      },
    })),
  );
}

/** The options of a scan that change its face scores (the cache key). */
/** `sampling` undefined: the scanner's default (uniform:32, or a clip model's own policy, fixed by the models' hashes). */
export type ScanSettings = Pick<ScanOptions, 'detector' | 'tracker'> & { sampling?: ScanOptions['sampling'] };

/**
 * The cache key: models, effective options (defaults filled in, so `{}` and the defaults spelled
 * out are one key) and unmask's version (another release may score differently; changes to the
 * code between releases are not noticed: delete `<out>/cache` then).
 */
export function cacheFingerprint(models: readonly RunModel[], settings: ScanSettings): string {
  const key = {
    // 2: spread-out samples decode on reference frames by default (media/reference_frames.ts)
    v: 2,
    unmask: packageVersion(),
    models: models.map((m) => m.sha256),
    sampling: settings.sampling ? sortKeys(settings.sampling) : 'model-default',
    detector: sortKeys({ ...DEFAULT_FACE_DETECTOR_OPTIONS, ...defined(settings.detector) }),
    tracker: sortKeys({ ...DEFAULT_TRACKER_OPTIONS, ...defined(settings.tracker) }),
  };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

function defined(o: object): object {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function sortKeys(o: object): object {
  return Object.fromEntries(Object.entries(defined(o)).sort(([a], [b]) => a.localeCompare(b)));
}

function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

/** Size and mtime recorded for a file that did not exist: its NOT_FOUND result holds while it stays missing. */
const MISSING = { size: -1, mtimeMs: -1 } as const;

interface CacheLine {
  path: string;
  size: number;
  mtimeMs: number;
  result: ScanResult;
}

/** The append-only scan cache of one fingerprint. */
export class ScanCache {
  private constructor(
    readonly file: string,
    private readonly entries: Map<string, CacheLine>,
  ) {}

  static async open(outDir: string, fingerprint: string, describe: object): Promise<ScanCache> {
    const dir = join(outDir, 'cache');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${fingerprint}.jsonl`);
    await writeFile(join(dir, `${fingerprint}.json`), `${JSON.stringify(describe, null, 2)}\n`);
    const entries = new Map<string, CacheLine>();
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch {
      // no cache yet
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as CacheLine;
        if (typeof e.path === 'string' && e.result?.schema) entries.set(e.path, e);
      } catch {
        // a line torn by an interrupted write: that input is scanned again
      }
    }
    // a torn last line has no newline: start the next append on a line of its own
    if (text && !text.endsWith('\n')) await appendFile(file, '\n');
    return new ScanCache(file, entries);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached result for `path` if the file is unchanged since (or still missing: `st` null). */
  get(path: string, st: { size: number; mtimeMs: number } | null): ScanResult | undefined {
    const e = this.entries.get(path);
    const now = st ?? MISSING;
    if (!e || e.size !== now.size || e.mtimeMs !== now.mtimeMs) return undefined;
    return e.result;
  }

  async put(path: string, st: { size: number; mtimeMs: number } | null, result: ScanResult): Promise<void> {
    const { size, mtimeMs } = st ?? MISSING;
    const line: CacheLine = { path, size, mtimeMs, result };
    // one append per line (O_APPEND: concurrent puts of several scans never interleave inside a line)
    await appendFile(this.file, `${JSON.stringify(line)}\n`);
    this.entries.set(path, line);
  }
}

async function fileStat(path: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const s = await stat(path);
    return { size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return null;
  }
}

export interface RunScansOptions {
  outDir: string;
  models: readonly RunModel[];
  settings: ScanSettings;
  /** onnxruntime threads per model. */
  threads?: number;
  /** Inputs scanned at once (scan_many.ts). Default 2. */
  jobs?: number;
  /** Called before the scanning starts with the number of inputs to scan (cache misses). */
  onStart?(toScan: number, cached: number): void;
  /** Called after each scanned (not cached) input. */
  onScanned?(path: string): void;
}

export interface RunScansResult {
  inputs: EvalInput[];
  scanned: number;
  cached: number;
  cacheFile: string;
}

/**
 * Scan results for every row, from the cache or by scanning (one Scanner for all models, created
 * only when something needs scanning). Inputs the scanner cannot read become error results.
 * Rows keep their order; a path listed twice is scanned once.
 */
export async function runScans(rows: readonly EvalRow[], o: RunScansOptions): Promise<RunScansResult> {
  const fingerprint = cacheFingerprint(o.models, o.settings);
  const cache = await ScanCache.open(o.outDir, fingerprint, {
    models: o.models.map((m) => ({ name: m.entry.name, version: m.entry.version, manifest: m.manifestPath, sha256: m.sha256 })),
    ...o.settings,
  });
  const stats = new Map<string, { size: number; mtimeMs: number } | null>();
  for (const r of rows) if (!stats.has(r.path)) stats.set(r.path, await fileStat(r.path));
  const results = new Map<string, ScanResult>();
  for (const [p, st] of stats) {
    const hit = cache.get(p, st);
    if (hit) results.set(p, hit);
  }
  const cached = results.size;
  const todo = [...stats.keys()].filter((p) => !results.has(p));
  o.onStart?.(todo.length, cached);
  if (todo.length) {
    const { paths, slots } = distinctManifests(o.models);
    const scanner = await Scanner.create({
      models: paths,
      sampling: o.settings.sampling,
      detector: o.settings.detector,
      tracker: o.settings.tracker,
      threads: o.threads,
      // every model on every face, so each can be measured alone; ensembles are combined afterwards
      memberSchedule: 'every-frame',
    });
    try {
      await scanMany(scanner, todo, {
        jobs: o.jobs,
        onResult: async (scan, i) => {
          const p = todo[i];
          const result = spreadToSlots(scan, slots, o.models);
          await cache.put(p, stats.get(p) ?? null, result);
          results.set(p, result);
          o.onScanned?.(p);
        },
      });
    } finally {
      await scanner.dispose();
    }
  }
  return { inputs: rows.map((row) => ({ row, result: results.get(row.path)! })), scanned: todo.length, cached, cacheFile: cache.file };
}

/**
 * The distinct manifests of a run, in first-seen order, and for each model the index of its
 * manifest among them. Two ensembles that share a member (comparing stacks of the same networks)
 * list it twice; it is scanned once.
 */
export function distinctManifests(models: readonly Pick<RunModel, 'manifestPath'>[]): { paths: string[]; slots: number[] } {
  const paths: string[] = [];
  const slots = models.map((m) => {
    const at = paths.indexOf(m.manifestPath);
    return at >= 0 ? at : paths.push(m.manifestPath) - 1;
  });
  return { paths, slots };
}

/**
 * A scan of the distinct manifests seen as a scan of every model of the run: `models` and each
 * face's `modelProbabilities` in the run's order, a shared network's score in each of its slots
 * (what the cache stores and evaluation reads). The scan's own combined probability stays that of
 * the distinct networks; evaluation recombines the members itself.
 */
export function spreadToSlots(result: ScanResult, slots: readonly number[], models: readonly RunModel[]): ScanResult {
  if (slots.every((j, i) => j === i)) return result; // no network listed twice
  return {
    ...result,
    models: models.map((m) => ({ name: m.entry.name, version: m.entry.version })),
    frames: result.frames.map((f) => ({ ...f, modelProbabilities: slots.map((j) => f.modelProbabilities[j]) })),
  };
}
