/**
 * Recalibrating the run's models: fit on the scans of a validation index, measure ECE and log loss
 * before and after on the evaluated index. Pure (scans in, numbers out); the manifest copy is
 * written by calibrated_manifest.ts.
 *
 * Everything works on the member's calibrated logits z = raw / T0 (T0: the manifest's temperature).
 * - temperature: z / s; the new manifest temperature is T0 * s. At frame level s is fitted on the
 *   pooled face logits; at video level on the video probabilities that the run's strategy makes from
 *   the scaled face logits (aggregation is redone for every candidate s), so it fits what users read.
 * - platt: sigmoid(a z + b) with z the face logit (frame level) or logit of the video probability
 *   (video level). The manifest has no intercept, so the copy gets temperature T0 / a and the
 *   decision band moved by -b in logit space: its verdicts equal Platt's (exactly for mean-logit and
 *   identity, whose video logit scales with the face logits), its displayed probabilities lack b.
 */
import { aggregateVideo, type FrameScore } from '../aggregate/aggregate.js';
import { logit, sigmoid } from '../aggregate/prob.js';
import { getStrategy, type StrategyName, type StrategyOptions } from '../aggregate/strategies.js';
import type { DecisionBand } from '../models/manifest.js';
import { InvalidOptionError } from '../util/errors.js';
import { fitPlatt, fitTemperature, fitTemperatureTo } from './calibration.js';
import type { Level, ModelEntry } from './eval_results.js';
import { scoreInputs, scorersFor, type EvalInput, type ScoredInput } from './evaluate.js';
import { ece, logLoss, type BinaryLabel } from './metrics.js';

export type CalibrationMethod = 'temperature' | 'platt';

export interface CalibrateOptions {
  method: CalibrationMethod;
  level: Level;
  strategy: StrategyName;
  strategyOptions?: StrategyOptions;
}

export interface CalibrationFit {
  model: string;
  method: CalibrationMethod;
  level: Level;
  /** Temperature for the manifest copy. */
  temperature: number;
  /** Platt parameters (platt only). */
  a?: number;
  b?: number;
  /** Decision band for the manifest copy (moved by Platt's intercept; unchanged for temperature). */
  band: DecisionBand;
  /** Validation samples (faces or videos) the fit used. */
  fittedOn: number;
  eceBefore: number;
  eceAfter: number;
  logLossBefore: number;
  logLossAfter: number;
}

/** A mapping from the current calibrated scale to the new one, for a set of scored inputs. */
type Recalibrate = (s: readonly ScoredInput[]) => { labels: BinaryLabel[]; before: number[]; after: number[] };

/**
 * Fits the calibration of member `memberIndex` of `models` on `validation` and measures it on `evaluated`.
 *
 * @throws InvalidOptionError without validation samples of both classes, without the member's
 *   temperature, or when Platt's slope is not positive (the scores rank the classes backwards).
 */
export function calibrateMember(
  validation: readonly EvalInput[],
  evaluated: readonly EvalInput[],
  models: readonly ModelEntry[],
  memberIndex: number,
  o: CalibrateOptions,
): CalibrationFit {
  const member = models[memberIndex];
  if (member.temperature === undefined) throw new InvalidOptionError(`model ${member.key}: manifest temperature unknown`);
  const scorer = scorersFor(models)[memberIndex];
  const rule = getStrategy(o.strategy, o.strategyOptions);
  const val = scoreInputs(validation, scorer).filter((s) => s.frames.length > 0);
  const test = scoreInputs(evaluated, scorer).filter((s) => s.frames.length > 0);
  const video = (s: ScoredInput, scale = 1) =>
    aggregateVideo(scale === 1 ? s.frames : s.frames.map((f): FrameScore => ({ ...f, logit: f.logit / scale })), rule, scorer.band).probability!;
  const labelsOf = (xs: readonly ScoredInput[]) =>
    o.level === 'frame' ? xs.flatMap((s) => s.frames.map(() => s.label)) : xs.map((s) => s.label);
  const frameLogits = (xs: readonly ScoredInput[]) => xs.flatMap((s) => s.frames.map((f) => f.logit));
  const valLabels = labelsOf(val);
  if (valLabels.length === 0) throw new InvalidOptionError('calibration: no validation input had a scored face');

  let temperature: number, band = scorer.band, platt: { a: number; b: number } | undefined, recalibrate: Recalibrate;
  if (o.method === 'temperature') {
    const s =
      o.level === 'frame'
        ? fitTemperature(valLabels, frameLogits(val))
        : fitTemperatureTo((t) => logLoss(valLabels, val.map((x) => video(x, t))));
    temperature = member.temperature * s;
    recalibrate = (xs) =>
      o.level === 'frame'
        ? { labels: labelsOf(xs), before: frameLogits(xs).map(sigmoid), after: frameLogits(xs).map((z) => sigmoid(z / s)) }
        : { labels: labelsOf(xs), before: xs.map((x) => video(x)), after: xs.map((x) => video(x, s)) };
  } else {
    const zOf = (xs: readonly ScoredInput[]) => (o.level === 'frame' ? frameLogits(xs) : xs.map((x) => logit(video(x))));
    const { a, b } = fitPlatt(valLabels, zOf(val));
    if (!(a > 0)) throw new InvalidOptionError(`model ${member.key}: Platt slope ${a.toFixed(3)} is not positive (scores rank the classes backwards on the validation set)`);
    platt = { a, b };
    temperature = member.temperature / a;
    const shift = (p: number) => sigmoid(logit(p) - b);
    band = { realBelow: shift(band.realBelow), fakeAbove: shift(band.fakeAbove) };
    recalibrate = (xs) => {
      const z = zOf(xs);
      return { labels: labelsOf(xs), before: z.map(sigmoid), after: z.map((v) => sigmoid(a * v + b)) };
    };
  }
  if (test.length === 0) throw new InvalidOptionError('calibration: no evaluated input had a scored face');
  const m = recalibrate(test);
  return {
    model: member.key,
    method: o.method,
    level: o.level,
    temperature,
    ...(platt ?? {}),
    band,
    fittedOn: valLabels.length,
    eceBefore: ece(m.labels, m.before),
    eceAfter: ece(m.labels, m.after),
    logLossBefore: logLoss(m.labels, m.before),
    logLossAfter: logLoss(m.labels, m.after),
  };
}
