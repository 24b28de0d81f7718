/**
 * Post-hoc calibration of a model's logits on validation data: temperature scaling (one scale,
 * sigmoid(z / T)) and Platt scaling (sigmoid(a z + b)). Pure functions.
 */
import { InvalidOptionError } from '../util/errors.js';
import { hasBothClasses, type BinaryLabel } from './metrics.js';

/** -log(sigmoid(x)), stable for any x. */
export function softplusNeg(x: number): number {
  return x >= 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x));
}

/** Mean negative log-likelihood of sigmoid(logit) for the labels (unclipped, stable). */
export function logitNll(labels: readonly BinaryLabel[], logits: readonly number[]): number {
  if (labels.length !== logits.length || labels.length === 0) throw new InvalidOptionError('NLL needs equal, non-empty inputs');
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += labels[i] === 1 ? softplusNeg(logits[i]) : softplusNeg(-logits[i]);
  return s / labels.length;
}

/** Temperatures searched: [MIN, MAX]; beyond them a fit says more about the data than the model. */
export const MIN_TEMPERATURE = 0.02;
export const MAX_TEMPERATURE = 50;

/**
 * The temperature T in [MIN_TEMPERATURE, MAX_TEMPERATURE] minimising `nll(T)`: a grid over log T
 * (so several local minima cannot fool it) refined by golden-section search around the best grid
 * point. Works for any objective, e.g. the video-level NLL after re-aggregating scaled frame logits.
 */
export function fitTemperatureTo(nll: (temperature: number) => number): number {
  const lo = Math.log(MIN_TEMPERATURE), hi = Math.log(MAX_TEMPERATURE), steps = 64;
  const f = (u: number) => nll(Math.exp(u));
  let best = 0, bestF = Infinity;
  const grid = Array.from({ length: steps + 1 }, (_, i) => lo + ((hi - lo) * i) / steps);
  grid.forEach((u, i) => {
    const v = f(u);
    if (v < bestF) [best, bestF] = [i, v];
  });
  let a = grid[Math.max(0, best - 1)], b = grid[Math.min(steps, best + 1)];
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a), d = a + g * (b - a), fc = f(c), fd = f(d);
  while (b - a > 1e-7) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return Math.exp((a + b) / 2);
}

/**
 * Temperature scaling: the T minimising the NLL of sigmoid(rawLogit / T).
 *
 * @throws InvalidOptionError without both classes.
 */
export function fitTemperature(labels: readonly BinaryLabel[], rawLogits: readonly number[]): number {
  checkFitInput(labels, rawLogits);
  return fitTemperatureTo((t) => logitNll(labels, rawLogits.map((z) => z / t)));
}

export interface PlattParams {
  a: number;
  b: number;
}

/**
 * Platt scaling: sigmoid(a z + b) fitted by Newton's method on the log-likelihood with Platt's
 * (1999) smoothed targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2), which keep a and b finite on
 * separable data.
 *
 * @throws InvalidOptionError without both classes.
 */
export function fitPlatt(labels: readonly BinaryLabel[], logits: readonly number[]): PlattParams {
  checkFitInput(labels, logits);
  const nPos = labels.filter((l) => l === 1).length, nNeg = labels.length - nPos;
  const hiT = (nPos + 1) / (nPos + 2), loT = 1 / (nNeg + 2);
  const t = labels.map((l) => (l === 1 ? hiT : loT));
  const loss = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < logits.length; i++) {
      const x = a * logits[i] + b;
      s += t[i] * softplusNeg(x) + (1 - t[i]) * softplusNeg(-x);
    }
    return s;
  };
  let a = 1, b = 0, cur = loss(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;
    for (let i = 0; i < logits.length; i++) {
      const z = logits[i], p = 1 / (1 + Math.exp(-(a * z + b))), r = p - t[i], w = p * (1 - p);
      ga += r * z;
      gb += r;
      haa += w * z * z;
      hab += w * z;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    // Newton step, halved until the loss does not increase
    let step = 1, next = loss(a - da, b - db);
    while (next > cur && step > 1e-10) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (next > cur) break;
    a -= step * da;
    b -= step * db;
    const done = cur - next < 1e-12 * Math.max(1, cur);
    cur = next;
    if (done) break;
  }
  return { a, b };
}

function checkFitInput(labels: readonly BinaryLabel[], logits: readonly number[]): void {
  if (labels.length !== logits.length || labels.length === 0) throw new InvalidOptionError('calibration needs equal, non-empty inputs');
  if (!hasBothClasses(labels)) throw new InvalidOptionError('calibration needs validation samples of both classes');
  if (logits.some((z) => !Number.isFinite(z))) throw new InvalidOptionError('calibration logits must be finite');
}
