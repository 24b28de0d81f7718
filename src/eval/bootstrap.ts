/**
 * Seeded bootstrap confidence intervals. Resampling is by cluster (a video) and stratified by
 * class: FAKE clusters are drawn from the FAKE clusters and REAL from REAL, each as many as there
 * are (pROC's default for AUC). Stratifying keeps both classes in every resample, so AUC is always
 * defined; clustering keeps the frames of one video together, since they are correlated and a
 * frame-level resample would understate the spread.
 */
import { InvalidOptionError } from '../util/errors.js';
import type { BinaryLabel } from './metrics.js';

/** mulberry32: a small, fast 32-bit PRNG; same seed, same sequence. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A cluster of samples that share one label (the frames of one video, or one video). */
export interface Cluster {
  label: BinaryLabel;
  scores: readonly number[];
}

/** Joins the scores of parts with the same key into one cluster each, in first-seen order. */
export function mergeClusters(parts: readonly (Cluster & { key: string })[]): Cluster[] {
  const byKey = new Map<string, Cluster & { scores: number[] }>();
  for (const p of parts) {
    const c = byKey.get(p.key);
    if (c) c.scores.push(...p.scores);
    else byKey.set(p.key, { label: p.label, scores: [...p.scores] });
  }
  return [...byKey.values()];
}

export interface BootstrapOptions {
  /** Number of resamples. Default 1000. */
  resamples?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Coverage of the interval. Default 0.95. */
  level?: number;
}

export const DEFAULT_BOOTSTRAP_RESAMPLES = 1000;

/**
 * Percentile interval of `statistic(labels, scores)` over stratified cluster resamples.
 *
 * @throws InvalidOptionError without clusters of both classes, or for bad options.
 */
export function bootstrapCi(
  clusters: readonly Cluster[],
  statistic: (labels: BinaryLabel[], scores: number[]) => number,
  options: BootstrapOptions = {},
): [number, number] {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw new InvalidOptionError(`bootstrap resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new InvalidOptionError(`bootstrap level must be in (0, 1), got ${level}`);
  const fake = clusters.filter((c) => c.label === 1), real = clusters.filter((c) => c.label === 0);
  if (fake.length === 0 || real.length === 0) throw new InvalidOptionError('a bootstrap interval needs clusters of both classes');
  const rand = seededRandom(options.seed ?? 1);
  const stats = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    const labels: BinaryLabel[] = [], scores: number[] = [];
    for (const pool of [fake, real]) {
      for (let k = 0; k < pool.length; k++) {
        const c = pool[Math.floor(rand() * pool.length)];
        for (const s of c.scores) {
          labels.push(c.label);
          scores.push(s);
        }
      }
    }
    stats[r] = statistic(labels, scores);
  }
  stats.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return [quantile(stats, alpha), quantile(stats, 1 - alpha)];
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}
