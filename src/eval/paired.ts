/**
 * Paired comparison of two scorers on the same inputs: the difference of their AUCs with a paired
 * bootstrap interval (each resample draws videos, stratified by class as in bootstrap.ts, and both
 * scorers are measured on the same draw). Two models' intervals overlapping says little when both
 * rank the same videos; the interval of the difference says whether one ranks better.
 */
import { bootstrapCi, mergeClusters, type BootstrapOptions } from './bootstrap.js';
import { hasBothClasses, rocAuc, type BinaryLabel } from './metrics.js';

/** One input scored by both sides. */
export interface PairedSample {
  label: BinaryLabel;
  a: number;
  b: number;
  /** Bootstrap cluster: samples with the same one are drawn together (default: each sample alone). */
  cluster?: string;
}

export interface PairedAucDifference {
  /** Inputs scored by both. */
  n: number;
  /** AUC(a) - AUC(b). */
  difference: number;
  /** Percentile interval of the difference over paired resamples; null without resampling. */
  ci95: [number, number] | null;
}

/**
 * AUC(a) - AUC(b) over `samples`, with a paired bootstrap interval (`options.resamples` = 0: none).
 * Null when the samples do not hold both classes.
 */
export function pairedAucDifference(samples: readonly PairedSample[], options: BootstrapOptions = {}): PairedAucDifference | null {
  const labels = samples.map((s) => s.label);
  if (!hasBothClasses(labels)) return null;
  const difference = rocAuc(labels, samples.map((s) => s.a)) - rocAuc(labels, samples.map((s) => s.b));
  if (options.resamples === 0) return { n: samples.length, difference, ci95: null };
  // a cluster's scores are (a, b) pairs, a then b: the statistic splits them again by position
  const clusters = mergeClusters(samples.map((s, i) => ({ key: `${s.label}|${s.cluster ?? `#${i}`}`, label: s.label, scores: [s.a, s.b] })));
  const statistic = (ls: BinaryLabel[], scores: number[]) => {
    const even = (_: unknown, i: number) => i % 2 === 0, odd = (_: unknown, i: number) => i % 2 === 1;
    return rocAuc(ls.filter(even), scores.filter(even)) - rocAuc(ls.filter(odd), scores.filter(odd));
  };
  return { n: samples.length, difference, ci95: bootstrapCi(clusters, statistic, options) };
}
