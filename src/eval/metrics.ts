/** Detection metrics over (label, score) pairs: ROC AUC (ties count half) and clipped log loss. */
import { InvalidOptionError } from '../util/errors.js';

/** 1 = FAKE, 0 = REAL. */
export type BinaryLabel = 0 | 1;

function checkBothClasses(labels: readonly BinaryLabel[]): void {
  const pos = labels.filter((l) => l === 1).length;
  if (pos === 0 || pos === labels.length) {
    throw new InvalidOptionError(`AUC needs both classes; got ${pos} FAKE and ${labels.length - pos} REAL`);
  }
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
  const pos = labels.filter((l) => l === 1).length, neg = labels.length - pos;
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
