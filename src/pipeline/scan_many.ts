/**
 * Several inputs through one Scanner, a few at a time. One scan leaves the two cores idle part of
 * the time (ffprobe and ffmpeg starting, frames still to come, the classifier's last batches), so a
 * second scan fills those gaps with its own work. Measured with one default Scanner (a scratch
 * script, 2 cores): eight 10 s 1080p clips took 13.6 s one at a time, 9.7 s two at a time and 9.3 s
 * three at a time; twelve FF++ c40 videos 13.7-14.1 s against 11.1-11.7 s two at a time; 120 DFDC
 * stills 7.7-8.1 s, 6.1-6.2 s and 5.1 s. The results do not depend on it: every 1080p clip's
 * probabilities were the same at each number of jobs, and test/pipeline_scan_many.test.ts checks it.
 */
import pLimit from 'p-limit';
import type { ScanHooks, Scanner } from './scanner.js';
import type { ScanResult } from './scan_result.js';

/** Inputs scanned at once by default: most of the gain (peak RSS 442 -> 507 MB on 1080p clips; three at once: 510 MB). */
export const DEFAULT_SCAN_JOBS = 2;

export interface ScanManyOptions {
  /** Inputs scanned at once. Default {@link DEFAULT_SCAN_JOBS}. */
  jobs?: number;
  /** Hooks for the scan of `paths[index]`. */
  hooks?: (index: number) => ScanHooks;
  /** Called with each result as its scan ends (in the order scans end), awaited before that job takes its next input. */
  onResult?: (result: ScanResult, index: number) => void | Promise<void>;
}

/**
 * Scans `paths` with `scanner`, `jobs` at a time; the results come in the order of `paths`. Inputs
 * that cannot be read give error results, as `Scanner.scan` does. A failure that is no input's fault
 * (models that could not be opened, see Scanner.open; a bug) stops new scans from starting and is
 * thrown once those under way have ended.
 */
export async function scanMany(scanner: Scanner, paths: readonly string[], options: ScanManyOptions = {}): Promise<ScanResult[]> {
  const jobs = options.jobs ?? DEFAULT_SCAN_JOBS;
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be a positive integer, got ${jobs}`);
  const limit = pLimit(jobs);
  const results: ScanResult[] = new Array(paths.length);
  let failure: { error: unknown } | undefined;
  await Promise.all(
    paths.map((path, i) =>
      limit(async () => {
        if (failure) return;
        try {
          results[i] = await scanner.scan(path, options.hooks?.(i) ?? {});
          await options.onResult?.(results[i], i);
        } catch (error) {
          failure ??= { error };
        }
      }),
    ),
  );
  if (failure) throw failure.error;
  return results;
}
