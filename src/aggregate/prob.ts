/** Numerically safe probability <-> logit conversions used by the aggregation rules. */

/** Probabilities are kept in [PROB_EPS, 1 - PROB_EPS] so logits stay finite (|logit| <= ~13.8). */
export const PROB_EPS = 1e-6;

/** Clamps a probability into [PROB_EPS, 1 - PROB_EPS]. */
export function clipProb(p: number): number {
  return Math.min(1 - PROB_EPS, Math.max(PROB_EPS, p));
}

/** Logistic function, clipped to [PROB_EPS, 1 - PROB_EPS]; stable for large |x| (never overflows). */
export function sigmoid(x: number): number {
  const p = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
  return clipProb(p);
}

/** Inverse of {@link sigmoid}: log(p / (1 - p)) of the clipped probability; finite for p in [0, 1]. */
export function logit(p: number): number {
  const q = clipProb(p);
  return Math.log(q / (1 - q));
}

/** Arithmetic mean; throws RangeError on an empty list. */
export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('mean of an empty list');
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}
