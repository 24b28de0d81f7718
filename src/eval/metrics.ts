/**
 * Detection metrics over (label, score) pairs. Pure functions; label 1 = FAKE (positive), 0 = REAL.
 *
 * Functions that need both classes (AUC, ROC curve, EER) throw InvalidOptionError on a single-class
 * input, and those that need a FAKE (AP, PR curve) throw without one: never NaN. The evaluation
 * turns those into `null` plus a note.
 */
import { InvalidOptionError } from '../util/errors.js';

/** 1 = FAKE, 0 = REAL. */
export type BinaryLabel = 0 | 1;

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

function checkLengths(labels: readonly BinaryLabel[], scores: readonly number[], what: string): void {
  if (labels.length !== scores.length) throw new InvalidOptionError(`${what}: labels and scores differ in length`);
  if (labels.length === 0) throw new InvalidOptionError(`${what}: no samples`);
}

function countPositives(labels: readonly BinaryLabel[]): number {
  let pos = 0;
  for (const l of labels) pos += l;
  return pos;
}

function checkBothClasses(labels: readonly BinaryLabel[], what = 'AUC'): void {
  const pos = countPositives(labels);
  if (pos === 0 || pos === labels.length) {
    throw new InvalidOptionError(`${what} needs both classes; got ${pos} FAKE and ${labels.length - pos} REAL`);
  }
}

/** True when both labels occur. */
export function hasBothClasses(labels: readonly BinaryLabel[]): boolean {
  const pos = countPositives(labels);
  return pos > 0 && pos < labels.length;
}

/** Area under the ROC curve by the rank-sum (Mann-Whitney) formula; tied scores get average ranks. */
export function rocAuc(labels: readonly BinaryLabel[], scores: readonly number[]): number {
  if (labels.length !== scores.length) throw new InvalidOptionError('labels and scores differ in length');
  checkBothClasses(labels);
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = avg;
    i = j + 1;
  }
  const pos = countPositives(labels), neg = labels.length - pos;
  let rankSum = 0;
  labels.forEach((l, i) => {
    if (l === 1) rankSum += ranks[i];
  });
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Mean binary cross-entropy of probabilities, clipped to [eps, 1-eps] as Kaggle's DFDC metric. */
export function logLoss(labels: readonly BinaryLabel[], probs: readonly number[], eps = 1e-15): number {
  if (labels.length !== probs.length || labels.length === 0) throw new InvalidOptionError('log loss needs equal, non-empty inputs');
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probs[i]));
    s -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / labels.length;
}

/** Counts at `threshold`: a sample is called FAKE when its probability is >= threshold. */
export function confusion(labels: readonly BinaryLabel[], probs: readonly number[], threshold: number): Confusion {
  checkLengths(labels, probs, 'confusion');
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const fake = probs[i] >= threshold;
    if (labels[i] === 1) fake ? c.tp++ : c.fn++;
    else fake ? c.fp++ : c.tn++;
  }
  return c;
}

/** (tp + tn) / n. */
export function accuracy(c: Confusion): number {
  const n = c.tp + c.fp + c.tn + c.fn;
  if (n === 0) throw new InvalidOptionError('accuracy: no samples');
  return (c.tp + c.tn) / n;
}

/**
 * Mean of the recall of each class present: (TPR + TNR) / 2 with both classes; with one class it
 * is that class's recall (equal to accuracy), as there is no second recall to average.
 */
export function balancedAccuracy(c: Confusion): number {
  const recalls: number[] = [];
  if (c.tp + c.fn > 0) recalls.push(c.tp / (c.tp + c.fn));
  if (c.tn + c.fp > 0) recalls.push(c.tn / (c.tn + c.fp));
  if (recalls.length === 0) throw new InvalidOptionError('balanced accuracy: no samples');
  return recalls.reduce((a, b) => a + b, 0) / recalls.length;
}

/** Cumulative counts at each distinct score, from the highest down: one operating point per threshold. */
interface OperatingPoint {
  threshold: number;
  tp: number;
  fp: number;
}

function operatingPoints(labels: readonly BinaryLabel[], scores: readonly number[]): OperatingPoint[] {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const out: OperatingPoint[] = [];
  let tp = 0, fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (labels[i] === 1) tp++;
    else fp++;
    // tied scores are one threshold: emit only after the last of the tie
    if (k + 1 === order.length || scores[order[k + 1]] !== scores[i]) out.push({ threshold: scores[i], tp, fp });
  }
  return out;
}

export interface RocCurve {
  /** False-positive rates, ascending, from 0 to 1. */
  fpr: number[];
  tpr: number[];
  /** Score threshold of each point (score >= threshold is FAKE); the first point is +Infinity. */
  thresholds: number[];
}

/** ROC curve points, one per distinct score plus the (0, 0) origin. Needs both classes. */
export function rocCurve(labels: readonly BinaryLabel[], scores: readonly number[]): RocCurve {
  checkLengths(labels, scores, 'ROC curve');
  checkBothClasses(labels, 'ROC curve');
  const pos = countPositives(labels), neg = labels.length - pos;
  const pts = operatingPoints(labels, scores);
  return {
    fpr: [0, ...pts.map((p) => p.fp / neg)],
    tpr: [0, ...pts.map((p) => p.tp / pos)],
    thresholds: [Infinity, ...pts.map((p) => p.threshold)],
  };
}

/**
 * Equal error rate: the rate where the false-positive rate equals the false-negative rate
 * (1 - TPR), linearly interpolated between the two ROC points that bracket the crossing.
 * Needs both classes.
 */
export function eer(labels: readonly BinaryLabel[], scores: readonly number[]): number {
  const { fpr, tpr } = rocCurve(labels, scores);
  // d = fpr - fnr rises from -1 (origin) to +1 (last point); find the first sign change.
  const d = fpr.map((f, i) => f - (1 - tpr[i]));
  for (let i = 1; i < d.length; i++) {
    if (d[i] >= 0) {
      const t = d[i] === d[i - 1] ? 0 : -d[i - 1] / (d[i] - d[i - 1]);
      return fpr[i - 1] + t * (fpr[i] - fpr[i - 1]);
    }
  }
  return 1; // unreachable: the last point has fpr 1, fnr 0
}

export interface PrCurve {
  /** Recall, ascending. */
  recall: number[];
  precision: number[];
  thresholds: number[];
}

/** Precision-recall points, one per distinct score (highest threshold first). Needs a FAKE sample. */
export function prCurve(labels: readonly BinaryLabel[], scores: readonly number[]): PrCurve {
  checkLengths(labels, scores, 'PR curve');
  const pos = countPositives(labels);
  if (pos === 0) throw new InvalidOptionError('PR curve needs at least one FAKE sample');
  const pts = operatingPoints(labels, scores);
  return {
    recall: pts.map((p) => p.tp / pos),
    precision: pts.map((p) => p.tp / (p.tp + p.fp)),
    thresholds: pts.map((p) => p.threshold),
  };
}

/**
 * Average precision, the step-wise area under the PR curve (as scikit-learn): sum over distinct
 * thresholds of (R_k - R_{k-1}) * P_k, with R_0 = 0. No interpolation. Needs a FAKE sample.
 */
export function averagePrecision(labels: readonly BinaryLabel[], scores: readonly number[]): number {
  const { recall, precision } = prCurve(labels, scores);
  let ap = 0, prev = 0;
  for (let k = 0; k < recall.length; k++) {
    ap += (recall[k] - prev) * precision[k];
    prev = recall[k];
  }
  return ap;
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted probability in the bin (0 when empty). */
  meanProbability: number;
  /** Fraction of FAKE labels in the bin (0 when empty). */
  fractionFake: number;
}

/** `bins` equal-width probability bins over [0, 1] (the last includes 1) with their calibration stats. */
export function reliability(labels: readonly BinaryLabel[], probs: readonly number[], bins = 10): ReliabilityBin[] {
  checkLengths(labels, probs, 'reliability');
  if (!Number.isInteger(bins) || bins < 1) throw new InvalidOptionError(`bins must be a positive integer, got ${bins}`);
  const count = new Array<number>(bins).fill(0), sumP = new Array<number>(bins).fill(0), fakes = new Array<number>(bins).fill(0);
  for (let i = 0; i < probs.length; i++) {
    const b = binOf(probs[i], bins);
    count[b]++;
    sumP[b] += probs[i];
    fakes[b] += labels[i];
  }
  return count.map((n, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: n,
    meanProbability: n ? sumP[b] / n : 0,
    fractionFake: n ? fakes[b] / n : 0,
  }));
}

/**
 * Expected calibration error: sum over `bins` equal-width bins of (bin count / n) *
 * |mean probability - fraction FAKE|. Defined for one class too.
 */
export function ece(labels: readonly BinaryLabel[], probs: readonly number[], bins = 10): number {
  const n = labels.length;
  return reliability(labels, probs, bins).reduce((s, b) => s + (b.count / n) * Math.abs(b.meanProbability - b.fractionFake), 0);
}

export interface ScoreHistogram {
  edges: number[];
  real: number[];
  fake: number[];
}

/** Counts of REAL and FAKE probabilities in `bins` equal-width bins over [0, 1] (the last includes 1). */
export function scoreHistogram(labels: readonly BinaryLabel[], probs: readonly number[], bins = 20): ScoreHistogram {
  if (labels.length !== probs.length) throw new InvalidOptionError('histogram: labels and scores differ in length');
  const real = new Array<number>(bins).fill(0), fake = new Array<number>(bins).fill(0);
  for (let i = 0; i < probs.length; i++) (labels[i] === 1 ? fake : real)[binOf(probs[i], bins)]++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => i / bins), real, fake };
}

function binOf(p: number, bins: number): number {
  if (!(p >= 0 && p <= 1)) throw new InvalidOptionError(`probability must be in [0, 1], got ${p}`);
  return Math.min(bins - 1, Math.floor(p * bins));
}

/**
 * At most `max` points of a curve (evenly spaced by index, first and last kept), for reports:
 * a frame-level ROC can have thousands of points.
 */
export function downsampleCurve<T extends Record<string, number[]>>(curve: T, max = 200): T {
  const n = Object.values(curve)[0]?.length ?? 0;
  if (n <= max) return curve;
  const idx = Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
  return Object.fromEntries(Object.entries(curve).map(([k, v]) => [k, idx.map((i) => v[i])])) as T;
}
