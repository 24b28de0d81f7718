/**
 * `results.json` written by `unmask eval` and read by `unmask report`: schema `unmask.eval/1`
 * (contract in scratch/eval_results_contract.md). Extra optional fields may be added; none removed.
 */
import { MEMBER_SCHEDULES } from '../models/member_schedule.js';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { UnmaskError } from '../util/errors.js';

export const EVAL_SCHEMA = 'unmask.eval/1';

export const LevelSchema = z.enum(['frame', 'video']);
export type Level = z.infer<typeof LevelSchema>;

export const GroupBySchema = z.enum(['all', 'dataset', 'method', 'compression']);
export type GroupBy = z.infer<typeof GroupBySchema>;

const EvalStrategySchema = z.enum(['mean-logit', 'confident', 'identity']);

export const ConfusionSchema = z.object({
  tp: z.number().int().nonnegative(),
  fp: z.number().int().nonnegative(),
  tn: z.number().int().nonnegative(),
  fn: z.number().int().nonnegative(),
});
export type Confusion = z.infer<typeof ConfusionSchema>;

export const ReliabilityBinSchema = z.object({
  lo: z.number(),
  hi: z.number(),
  count: z.number().int().nonnegative(),
  /** Mean predicted P(FAKE) of the bin (0 for an empty bin). */
  meanProbability: z.number(),
  /** Fraction of FAKE labels in the bin (0 for an empty bin). */
  fractionFake: z.number(),
});
export type ReliabilityBin = z.infer<typeof ReliabilityBinSchema>;

export const HistogramSchema = z.object({
  /** 21 edges of 20 equal bins over [0, 1]; the last bin includes 1. */
  edges: z.array(z.number()),
  real: z.array(z.number().int().nonnegative()),
  fake: z.array(z.number().int().nonnegative()),
});
export type Histogram = z.infer<typeof HistogramSchema>;

export const MetricRecordSchema = z.object({
  n: z.number().int().nonnegative(),
  /** Number of FAKE samples. */
  positives: z.number().int().nonnegative(),
  negatives: z.number().int().nonnegative(),
  /** null when only one class is present (then `note` says so). */
  auc: z.number().nullable(),
  /** Bootstrap percentile 95% interval of the AUC. */
  aucCi95: z.tuple([z.number(), z.number()]).nullable(),
  /** Mean binary cross-entropy, probabilities clipped to [1e-15, 1 - 1e-15]. */
  logLoss: z.number(),
  /** At `threshold`: P(FAKE) >= threshold is called FAKE. */
  accuracy: z.number(),
  balancedAccuracy: z.number(),
  threshold: z.number(),
  eer: z.number().nullable(),
  averagePrecision: z.number().nullable(),
  confusion: ConfusionSchema,
  /** Expected calibration error over 10 equal-width bins. */
  ece: z.number(),
  roc: z.object({ fpr: z.array(z.number()), tpr: z.array(z.number()) }).nullable(),
  pr: z.object({ recall: z.array(z.number()), precision: z.array(z.number()) }).nullable(),
  reliability: z.array(ReliabilityBinSchema),
  histogram: HistogramSchema,
  /** Inputs of the group left out because they had no score (NO_FACE or a scan error). */
  unscored: z.number().int().nonnegative().optional(),
  note: z.string().optional(),
});
export type MetricRecord = z.infer<typeof MetricRecordSchema>;

export const EvaluationSchema = z.object({
  /** A model key (see `models`), a named ensemble's name (`models[].ensemble`) or 'ensemble'. */
  model: z.string(),
  /** For frame level this is the run's default strategy (frames are not aggregated). */
  strategy: EvalStrategySchema,
  level: LevelSchema,
  groupBy: GroupBySchema,
  /** '' for groupBy 'all'; for 'method' the REAL rows of the same data set are included as negatives. */
  group: z.string(),
  metrics: MetricRecordSchema,
});
export type Evaluation = z.infer<typeof EvaluationSchema>;

export const VideoScoreSchema = z.object({
  path: z.string(),
  label: z.enum(['REAL', 'FAKE']),
  dataset: z.string(),
  split: z.string(),
  method: z.string(),
  compression: z.string(),
  /** The index's `group` column (absent in results written before it was kept). */
  group: z.string().optional(),
  model: z.string(),
  strategy: z.string(),
  /** null on error. */
  verdict: z.enum(['FAKE', 'REAL', 'UNCERTAIN', 'NO_FACE']).nullable(),
  /** null for NO_FACE and errors. */
  probability: z.number().nullable(),
  faces: z.number().int().nonnegative(),
  tracks: z.number().int().nonnegative(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** data:image/jpeg;base64,... of the most-fake-scored face (worst videos only). */
  thumbnail: z.string().optional(),
});
export type VideoScore = z.infer<typeof VideoScoreSchema>;

export const ModelEntrySchema = z.object({
  /** Unique key used in `evaluations[].model` and `videos[].model` (the name, de-duplicated). */
  key: z.string(),
  name: z.string(),
  version: z.string(),
  /** Absolute path of the manifest. */
  manifest: z.string(),
  band: z.object({ realBelow: z.number(), fakeAbove: z.number() }),
  /** The manifest's calibration temperature. */
  temperature: z.number().optional(),
  /**
   * Name of the ensemble manifest (`unmask.ensemble/1`) whose member this model is, when the run
   * was given one: its members are also scored together under that name (see `scorersFor`).
   */
  ensemble: z.string().optional(),
  /** Stacked ensemble manifests: this member counts as `weight * logit + bias` in its ensembles (default 1 and 0). */
  weight: z.number().optional(),
  bias: z.number().optional(),
  /** The decision band of its stacked ensemble manifest, used for the ensembles instead of `band`. */
  ensembleBand: z.object({ realBelow: z.number(), fakeAbove: z.number() }).optional(),
  /** The manifest's kind; absent in results written before it was recorded (read as `frame`). */
  kind: z.enum(['frame', 'clip']).optional(),
});
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

export const WorstVideoSchema = z.object({
  model: z.string(),
  path: z.string(),
  label: z.string(),
  probability: z.number(),
  thumbnail: z.string().optional(),
  /** Frame index, time and box (frame pixels) of the most-fake-scored face: where the thumbnail is cut. */
  frameIndex: z.number().int().nonnegative().optional(),
  timeMs: z.number().nonnegative().optional(),
  box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).optional(),
});
export type WorstVideo = z.infer<typeof WorstVideoSchema>;

export const CalibrationEntrySchema = z.object({
  model: z.string(),
  method: z.enum(['temperature', 'platt']),
  /** New manifest temperature (raw logit / temperature). */
  temperature: z.number().optional(),
  /** Platt: P(FAKE) = sigmoid(a * calibratedLogit + b), on the model's existing calibrated logit. */
  a: z.number().optional(),
  b: z.number().optional(),
  eceBefore: z.number(),
  eceAfter: z.number(),
  logLossBefore: z.number(),
  logLossAfter: z.number(),
  /** Path of the calibrated manifest copy. */
  manifestOut: z.string(),
  /** Samples the fit was computed on, and whether they were frames or videos. */
  level: LevelSchema.optional(),
  fittedOn: z.number().int().nonnegative().optional(),
  /** The validation index the fit used. */
  validationIndex: z.string().optional(),
  note: z.string().optional(),
});
export type CalibrationEntry = z.infer<typeof CalibrationEntrySchema>;

const VideoFiguresSchema = z.object({ auc: z.number(), logLoss: z.number() });

/** `unmask eval --fit-stacking`: member weights fitted as a logistic regression (see src/eval/stacking.ts). */
export const StackingEntrySchema = z.object({
  /** Member keys, in order. */
  members: z.array(z.string()),
  /** P(FAKE) = sigmoid(sum(coef[i] * member i's calibrated video logit) + intercept). */
  coef: z.array(z.number()),
  intercept: z.number(),
  /** Video inputs with a face the fit used, from `validationIndex`. */
  fittedOn: z.number().int().nonnegative(),
  validationIndex: z.string(),
  folds: z.number().int(),
  /** Out-of-fold (folds by identity group) stacked figures, and the equal mean's on the same inputs. */
  outOfFold: VideoFiguresSchema,
  equalMean: VideoFiguresSchema,
  /** Paired AUC difference, out of fold minus equal mean, with its bootstrap interval over groups. */
  aucDifference: z.number().nullable(),
  aucDifferenceCi95: z.tuple([z.number(), z.number()]).nullable(),
  /** The ensemble manifest written. */
  manifestOut: z.string(),
});
export type StackingEntry = z.infer<typeof StackingEntrySchema>;

export const ComparisonSchema = z.object({
  /** Scorer keys (see `models`, a named ensemble, or 'ensemble'): the difference is `model` minus `baseline`. */
  model: z.string(),
  baseline: z.string(),
  level: LevelSchema,
  strategy: EvalStrategySchema,
  /** Inputs scored by both. */
  n: z.number().int().nonnegative(),
  aucDifference: z.number(),
  /** Paired bootstrap 95% interval of the difference (same resamples for both); null without resampling. */
  aucDifferenceCi95: z.tuple([z.number(), z.number()]).nullable(),
});
export type Comparison = z.infer<typeof ComparisonSchema>;

/** Bootstrap units of `unmask eval --cluster-by` (see evaluate.ts, `ClusterBy`). */
export const CLUSTER_BY = ['input', 'group'] as const;

export const EvalResultsSchema = z.object({
  schema: z.literal(EVAL_SCHEMA),
  createdAt: z.string(),
  /** Absolute path of the index CSV. */
  index: z.string(),
  filter: z.object({ split: z.string().optional(), dataset: z.string().optional(), limit: z.number().optional() }),
  models: z.array(ModelEntrySchema),
  /** Default strategy of the run. */
  strategy: z.string(),
  /**
   * How the ensemble rows combine their frame members on each frame, as `unmask scan --member-schedule`
   * (every model alone is always measured on every face). Absent in results written before the option
   * existed, whose ensembles used every member on every face.
   */
  memberSchedule: z.enum(MEMBER_SCHEDULES).optional(),
  /** The bootstrap unit of every interval (`unmask eval --cluster-by`); absent before the option: `input`. */
  clusterBy: z.enum(CLUSTER_BY).optional(),
  /** Every (model | ensemble) x strategy x level x grouping. */
  evaluations: z.array(EvaluationSchema),
  /** Every input x (model | ensemble) under the default strategy. */
  videos: z.array(VideoScoreSchema),
  /** Top-N wrongest videos per model / ensemble. */
  worst: z.array(WorstVideoSchema),
  calibration: z.array(CalibrationEntrySchema).optional(),
  stacking: StackingEntrySchema.optional(),
  /** With several models: video AUC differences of every pair of scorers (default strategy, all inputs). */
  comparisons: z.array(ComparisonSchema).optional(),
  /** Inputs that could not be scanned. */
  failures: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })),
  timings: z.object({ seconds: z.number(), scanned: z.number().int(), cached: z.number().int() }),
});
export type EvalResults = z.infer<typeof EvalResultsSchema>;

export class InvalidEvalResultsError extends UnmaskError {
  constructor(message: string) {
    super('INVALID_EVAL_RESULTS', message);
  }
}

/** Validates parsed JSON as {@link EvalResults}; throws a one-line {@link InvalidEvalResultsError}. */
export function parseEvalResults(json: unknown, where = 'results'): EvalResults {
  const r = EvalResultsSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new InvalidEvalResultsError(
      `${where} is not a valid ${EVAL_SCHEMA} file: ${first?.path.join('.') || '(root)'}: ${first?.message}`,
    );
  }
  return r.data;
}

/** Reads and validates a `results.json`; throws a one-line {@link InvalidEvalResultsError}. */
export async function readEvalResults(path: string): Promise<EvalResults> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InvalidEvalResultsError(`cannot read eval results ${path}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidEvalResultsError(`${path} is not valid JSON`);
  }
  return parseEvalResults(json, path);
}
