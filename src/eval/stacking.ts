/**
 * Stacking: weights for an ensemble's members, fitted as a logistic regression of the label on the
 * members' calibrated video logits over a validation index (`unmask eval --fit-stacking`). Pure.
 *
 * Why: an equal mean of calibrated logits lets a member whose logits spread little (a model that
 * ranks well but hesitates) barely count, and a member that ranks badly count fully. The fit weighs
 * each member by what it adds. Its honest figure is out of fold: the validation inputs are dealt into
 * k folds by identity `group` (never one person on both sides), each fold is scored by weights fitted
 * on the others, and those out-of-fold scores are measured against the equal mean on the same inputs.
 *
 * The ensemble manifest takes the fit as member weights `n * coef[i]` and bias `intercept` (see
 * ensemble_manifest.ts): the mean over n members of `n * coef[i] * z_i + intercept` is the fitted
 * `sum(coef[i] * z_i) + intercept` when every member scores every face (`--member-schedule
 * every-frame`), and close to it when they take turns over a video's frames.
 */
import { createHash } from 'node:crypto';
import { logit, sigmoid } from '../aggregate/prob.js';
import { getStrategy, type StrategyName, type StrategyOptions } from '../aggregate/strategies.js';
import { InvalidOptionError } from '../util/errors.js';
import type { ModelEntry } from './eval_results.js';
import { clusterKey, scoreInputs, scorersFor, videoProbability, type EvalInput } from './evaluate.js';
import { hasBothClasses, logLoss, rocAuc, type BinaryLabel } from './metrics.js';
import { pairedAucDifference, type PairedAucDifference } from './paired.js';

export const DEFAULT_STACKING_FOLDS = 5;
/** L2 penalty on the coefficients (not the intercept), per sample: keeps the fit finite when the classes separate. */
export const STACKING_L2 = 1e-4;

export interface LogisticFit {
  coef: number[];
  intercept: number;
}

/**
 * Logistic regression `P(y = 1) = sigmoid(coef . x + intercept)` by Newton's method on the mean
 * log-likelihood plus `l2 / 2 * |coef|^2`, each step halved until the loss does not rise.
 *
 * @throws InvalidOptionError without samples of both classes or with rows of unequal length.
 */
export function fitLogistic(x: readonly (readonly number[])[], y: readonly BinaryLabel[], l2 = STACKING_L2): LogisticFit {
  if (x.length !== y.length || x.length === 0) throw new InvalidOptionError('logistic regression: needs one label per sample and at least one sample');
  if (!hasBothClasses(y)) throw new InvalidOptionError('logistic regression: needs samples of both classes');
  const d = x[0].length;
  if (x.some((r) => r.length !== d || r.some((v) => !Number.isFinite(v)))) throw new InvalidOptionError('logistic regression: every sample needs the same number of finite features');
  const n = x.length;
  const rows = x.map((r) => [...r, 1]); // the last parameter is the intercept
  const loss = (w: number[]) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = dot(rows[i], w);
      s += y[i] ? softplus(-z) : softplus(z);
    }
    return s / n + (l2 / 2) * w.slice(0, d).reduce((a, v) => a + v * v, 0);
  };
  let w = new Array<number>(d + 1).fill(0);
  let current = loss(w);
  for (let iter = 0; iter < 100; iter++) {
    const grad = new Array<number>(d + 1).fill(0);
    const hess = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    for (let i = 0; i < n; i++) {
      const p = sigmoid(dot(rows[i], w));
      const r = (p - y[i]) / n, h = Math.max(p * (1 - p), 1e-12) / n;
      for (let a = 0; a <= d; a++) {
        grad[a] += r * rows[i][a];
        for (let b = 0; b <= d; b++) hess[a][b] += h * rows[i][a] * rows[i][b];
      }
    }
    for (let a = 0; a < d; a++) {
      grad[a] += l2 * w[a];
      hess[a][a] += l2;
    }
    hess[d][d] += 1e-12;
    const step = solve(hess, grad);
    let t = 1, next = w, nextLoss = current;
    for (let k = 0; k < 30; k++, t /= 2) {
      const cand = w.map((v, a) => v - t * step[a]);
      const l = loss(cand);
      if (l <= current) {
        next = cand;
        nextLoss = l;
        break;
      }
    }
    const moved = Math.max(...next.map((v, a) => Math.abs(v - w[a])));
    w = next;
    const improved = current - nextLoss;
    current = nextLoss;
    if (moved < 1e-9 || improved < 1e-13) break;
  }
  return { coef: w.slice(0, d), intercept: w[d] };
}

/** How a stacking fit is made. */
export interface StackingOptions {
  /** Strategy that turns each member's face logits into its video logit (the run's). */
  strategy: StrategyName;
  strategyOptions?: StrategyOptions;
  /** Folds for the out-of-fold figures (default {@link DEFAULT_STACKING_FOLDS}). */
  folds?: number;
  /** Bootstrap resamples for the paired interval (default 1000; 0: none). */
  resamples?: number;
  seed?: number;
}

/** AUC and log loss of video probabilities. */
export interface VideoFigures {
  auc: number;
  logLoss: number;
}

export interface StackingFit {
  /** Member keys, in the run's order. */
  members: string[];
  /** Coefficients on the members' calibrated video logits, and the intercept. */
  coef: number[];
  intercept: number;
  /** For the ensemble manifest: `weights[i] = n * coef[i]`, `bias = intercept`. */
  weights: number[];
  bias: number;
  /** Validation inputs with a scored face (the samples of the fit). */
  fittedOn: number;
  folds: number;
  /** Stacked scores of each fold by the weights fitted on the other folds. */
  outOfFold: VideoFigures;
  /** The members' equal mean (the unweighted ensemble) on the same inputs. */
  equalMean: VideoFigures;
  /** AUC(out of fold) - AUC(equal mean), paired bootstrap over identity groups. */
  difference: PairedAucDifference | null;
}

/**
 * Folds for the out-of-fold figures: whole identity groups (`keys[i]`, a group or a path) dealt in
 * turn into `folds` folds, REAL-only groups first, then FAKE-only ones, then mixed ones, each stratum
 * in the order of its groups' hashes (so the deal is fixed). A class present in two or more groups is
 * in two or more folds, so every fold's training part (the other folds) holds it.
 */
export function assignFolds(keys: readonly string[], labels: readonly BinaryLabel[], folds: number): number[] {
  const classes = new Map<string, Set<BinaryLabel>>();
  keys.forEach((k, i) => classes.set(k, (classes.get(k) ?? new Set<BinaryLabel>()).add(labels[i])));
  const hash = (k: string) => createHash('sha1').update(k).digest('hex');
  const stratum = (k: string) => (classes.get(k)!.size === 2 ? 2 : classes.get(k)!.has(1) ? 1 : 0);
  const order = [...classes.keys()].map((k) => ({ k, s: stratum(k), h: hash(k) })).sort((a, b) => a.s - b.s || a.h.localeCompare(b.h));
  const foldOfKey = new Map(order.map((g, i) => [g.k, i % folds]));
  return keys.map((k) => foldOfKey.get(k)!);
}

/**
 * Fits stacking weights for `models` (frame models, each measured on every face, as `unmask eval`
 * runs them) on `validation`.
 *
 * @throws InvalidOptionError with fewer than two models, a clip model, fewer folds than 2, or
 *   validation inputs that do not hold both classes (in every fold's training part too).
 */
export function fitStacking(validation: readonly EvalInput[], models: readonly ModelEntry[], o: StackingOptions): StackingFit {
  if (models.length < 2) throw new InvalidOptionError('--fit-stacking needs two or more models');
  const clip = models.find((m) => m.kind === 'clip');
  if (clip) throw new InvalidOptionError(`--fit-stacking weighs frame models only (${clip.key} is a clip model)`);
  const folds = o.folds ?? DEFAULT_STACKING_FOLDS;
  if (!Number.isInteger(folds) || folds < 2) throw new InvalidOptionError(`stacking folds must be an integer >= 2, got ${folds}`);
  const rule = getStrategy(o.strategy, o.strategyOptions);
  const scorers = scorersFor(models).slice(0, models.length); // each member alone
  const perMember = scorers.map((s) => scoreInputs(validation, s));
  const x: number[][] = [], y: BinaryLabel[] = [], groups: string[] = [], cluster: string[] = [];
  validation.forEach((input, i) => {
    const probs = perMember.map((scored, m) => videoProbability(scored[i], rule, scorers[m].band));
    if (probs.some((p) => p === null)) return; // no face: not a sample
    x.push(probs.map((p) => logit(p!)));
    y.push(perMember[0][i].label);
    groups.push(input.row.group || input.row.path);
    cluster.push(clusterKey(input.row, 'group'));
  });
  if (!hasBothClasses(y)) throw new InvalidOptionError('--fit-stacking: the validation inputs with a face do not hold both classes');
  const n = models.length;
  const fold = assignFolds(groups, y, folds);
  const full = fitLogistic(x, y);
  const oof = new Array<number>(x.length);
  for (let k = 0; k < folds; k++) {
    const train = x.flatMap((_, i) => (fold[i] !== k ? [i] : []));
    if (train.length === x.length) continue; // an empty fold
    const trainLabels = train.map((i) => y[i]);
    if (!hasBothClasses(trainLabels)) throw new InvalidOptionError(`--fit-stacking: fold ${k + 1}'s training part does not hold both classes`);
    const f = fitLogistic(train.map((i) => x[i]), trainLabels);
    x.forEach((r, i) => {
      if (fold[i] === k) oof[i] = dot(r, f.coef) + f.intercept;
    });
  }
  const mean = x.map((r) => r.reduce((a, v) => a + v, 0) / n);
  const figures = (z: number[]): VideoFigures => ({ auc: rocAuc(y, z), logLoss: logLoss(y, z.map(sigmoid)) });
  return {
    members: models.map((m) => m.key),
    coef: full.coef,
    intercept: full.intercept,
    weights: full.coef.map((c) => n * c),
    bias: full.intercept,
    fittedOn: x.length,
    folds,
    outOfFold: figures(oof),
    equalMean: figures(mean),
    difference: pairedAucDifference(
      y.map((label, i) => ({ label, a: oof[i], b: mean[i], cluster: cluster[i] })),
      { resamples: o.resamples, seed: o.seed },
    ),
  };
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Solves `a x = b` (a small symmetric positive definite system) by Gaussian elimination with partial pivoting. */
function solve(a: readonly number[][], b: readonly number[]): number[] {
  const m = a.map((r, i) => [...r, b[i]]);
  const d = b.length;
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    if (Math.abs(m[c][c]) < 1e-300) throw new InvalidOptionError('logistic regression: singular system (a feature is constant or repeats another)');
    for (let r = c + 1; r < d; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= d; k++) m[r][k] -= f * m[c][k];
    }
  }
  const out = new Array<number>(d).fill(0);
  for (let r = d - 1; r >= 0; r--) {
    let s = m[r][d];
    for (let k = r + 1; k < d; k++) s -= m[r][k] * out[k];
    out[r] = s / m[r][r];
  }
  return out;
}
