/**
 * Scan results of an index -> `results.json` (schema unmask.eval/1). Pure: no I/O, no scanning.
 *
 * - Scorers: each ensemble member alone (its calibrated frame logit, recovered from
 *   `modelProbabilities`), plus the ensemble (the members combined as the
 *   Scanner does) when there are two or more members. With one model, the ensemble would be the
 *   same numbers, so it is left out.
 * - Frame level: one sample per scored face per frame, labelled with its video's label.
 * - Video level: one sample per input, from the frame logits aggregated by each strategy.
 * - Inputs without a score (NO_FACE, scan errors) are left out of the metrics and counted in
 *   `unscored`; they still appear in `videos` (and errors in `failures`).
 * - Threshold for accuracy and the confusion matrix: 0.5 on the calibrated P(FAKE), moved into the
 *   model's decision band [realBelow, fakeAbove] when 0.5 lies outside it (so a band of one point
 *   is that point). Verdicts in `videos` use the full band (with UNCERTAIN).
 */
import { aggregateVideo, type FrameScore } from '../aggregate/aggregate.js';
import { logit, sigmoid } from '../aggregate/prob.js';
import { getStrategy, STRATEGY_NAMES, type AggregationStrategy, type StrategyName, type StrategyOptions } from '../aggregate/strategies.js';
import type { DecisionBand } from '../models/manifest.js';
import { meanBand } from '../aggregate/verdict.js';
import { combineMembers } from '../models/member_combine.js';
import { DEFAULT_MEMBER_SCHEDULE, frameOrdinals, type MemberSchedule, membersForFrame } from '../models/member_schedule.js';
import { InvalidOptionError } from '../util/errors.js';
import type { ScanFrameScore, ScanResult } from '../pipeline/scan_result.js';
import type { Box } from '../types.js';
import { bootstrapCi, mergeClusters, type Cluster } from './bootstrap.js';
import { pairedAucDifference } from './paired.js';
import {
  CLUSTER_BY,
  EVAL_SCHEMA,
  type Comparison,
  type EvalResults,
  type Evaluation,
  type GroupBy,
  type Level,
  type MetricRecord,
  type ModelEntry,
  type VideoScore,
  type WorstVideo,
} from './eval_results.js';
import {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  confusion,
  downsampleCurve,
  ece,
  eer,
  hasBothClasses,
  logLoss,
  prCurve,
  reliability,
  rocAuc,
  rocCurve,
  scoreHistogram,
  type BinaryLabel,
} from './metrics.js';

export const ENSEMBLE_KEY = 'ensemble';
export const DEFAULT_WORST_COUNT = 12;
export const DEFAULT_EVAL_SEED = 1;

/** One row of the evaluated index. */
export interface EvalRow {
  path: string;
  label: 'REAL' | 'FAKE';
  dataset: string;
  split: string;
  method: string;
  /** '' when the index has no compression column. */
  compression: string;
  /** The index's `group` (identity ids, `ffpp:033+ffpp:097`): the bootstrap unit under `clusterBy: 'group'`. */
  group?: string;
}

/** A row and its scan (status ok or error), scanned with every model of the run in `models` order. */
export interface EvalInput {
  row: EvalRow;
  result: ScanResult;
}

export interface EvaluateOptions {
  /** Absolute path of the index CSV. */
  index: string;
  filter: EvalResults['filter'];
  /** The run's models, in the order of `ScanResult.models`. */
  models: ModelEntry[];
  /** Default strategy: the one used for `videos`, `worst` and the frame-level `strategy` field. */
  strategy: StrategyName;
  strategyOptions?: StrategyOptions;
  /** Bootstrap resamples for the AUC interval (default 1000); 0 turns the interval off. */
  resamples?: number;
  seed?: number;
  /** Worst videos kept per scorer (default 12). */
  worst?: number;
  /** How ensembles combine their frame members per frame, as `unmask scan` (default `alternate`). */
  memberSchedule?: MemberSchedule;
  /** Bootstrap unit of the intervals (default `input`), see `ClusterBy`. */
  clusterBy?: ClusterBy;
  timings: EvalResults['timings'];
  createdAt?: string;
}

/**
 * What a bootstrap resample draws: `input`, each input on its own (a video, or a still); `group`, all
 * inputs of one class that share the index's `group`, so stills cut from one video, or a person's
 * several videos, move together. Point figures are the same either way; only the intervals differ.
 * Inputs are not independent when a data set holds several stills per video (FF++ c23 faces: 16 per
 * real video), and resampling them one by one would make the intervals too narrow.
 */
export type ClusterBy = (typeof CLUSTER_BY)[number];

/** The bootstrap cluster of an input: its class and group under `group`, else the input alone. */
export function clusterKey(row: EvalRow, by: ClusterBy): string {
  return by === 'group' && row.group ? `${row.label}|${row.group}` : `${row.label}|input:${row.path}`;
}

/** A scorer: one member, or the ensemble. */
export interface Scorer {
  key: string;
  band: DecisionBand;
  /** Calibrated logit of each scored face of one input, in the order given. */
  inputLogits(frames: readonly ScanFrameScore[]): number[];
}

/** Member `i`'s calibrated logit of a face; eval scans run every member on every face. */
function memberLogit(f: ScanFrameScore, i: number): number {
  const p = f.modelProbabilities[i];
  if (p === null) throw new InvalidOptionError(`frame ${f.frameIndex}: model ${i + 1} has no score (scan results made with --member-schedule alternate cannot be evaluated per model)`);
  return logit(p);
}

/**
 * The scorers of a run: every member by its key; then each named ensemble (the members that one
 * ensemble manifest listed, when the run has other models too), by the manifest's name; then, with
 * several models, the ensemble of all of them. An ensemble scores the faces of an input as
 * `unmask scan` does (src/models/member_combine.ts), with the mean of its members' decision bands.
 */
export function scorersFor(models: readonly ModelEntry[], schedule: MemberSchedule = DEFAULT_MEMBER_SCHEDULE): Scorer[] {
  const members: Scorer[] = models.map((m, i) => ({ key: m.key, band: m.band, inputLogits: (frames) => frames.map((f) => memberLogit(f, i)) }));
  if (models.length < 2) return members;
  const all = models.map((_, i) => i);
  const taken = new Set([...models.map((m) => m.key), ENSEMBLE_KEY]);
  const named: Scorer[] = [];
  for (const name of new Set(models.flatMap((m) => (m.ensemble ? [m.ensemble] : [])))) {
    const idx = all.filter((i) => models[i].ensemble === name);
    if (idx.length < 2 || idx.length === models.length) continue; // one model, or the same as 'ensemble'
    let key = name;
    for (let n = 2; taken.has(key); n++) key = `${name}#${n}`;
    taken.add(key);
    named.push(ensembleScorer(key, models, idx, schedule));
  }
  return [...members, ...named, ensembleScorer(ENSEMBLE_KEY, models, all, schedule)];
}

/**
 * The ensemble of models `idx`: on each frame, the members that `unmask scan` runs there under
 * `schedule` (its frame members take turns; clip members always count), each weighted as its stacked
 * ensemble manifest says, combined as the scanner combines them ({@link combineMembers}), with the
 * mean of their (ensembles') bands.
 */
function ensembleScorer(key: string, models: readonly ModelEntry[], idx: readonly number[], schedule: MemberSchedule): Scorer {
  const frameIdx = idx.filter((i) => (models[i].kind ?? 'frame') === 'frame');
  const clipIdx = new Set(idx.filter((i) => models[i].kind === 'clip'));
  const weighting = idx.map((i) => ({ weight: models[i].weight ?? 1, bias: models[i].bias ?? 0 }));
  return {
    key,
    band: meanBand(idx.map((i) => models[i].ensembleBand ?? models[i].band)),
    inputLogits: (frames) => {
      const ordinals = frameOrdinals(frames.map((f) => f.frameIndex));
      // clip members score every face; frame members the frames the schedule gives them
      const used = ordinals.map((o) => new Set([...clipIdx, ...membersForFrame(schedule, o, frameIdx.length).map((m) => frameIdx[m])]));
      const perMember = idx.map((i) => Float64Array.from(frames, (f, k) => (used[k].has(i) ? memberLogit(f, i) : Number.NaN)));
      return Array.from(combineMembers(perMember, frames.map((f) => f.trackId), weighting));
    },
  };
}

/** Threshold for accuracy: 0.5, clamped into the decision band. */
export function thresholdForBand(band: DecisionBand): number {
  return Math.min(Math.max(0.5, band.realBelow), band.fakeAbove);
}

/** Unique model keys: the name, or name@version when names repeat, or with #n when both repeat. */
export function modelKeys(models: readonly { name: string; version: string }[]): string[] {
  const count = (f: (m: { name: string; version: string }) => string) => {
    const c = new Map<string, number>();
    for (const m of models) c.set(f(m), (c.get(f(m)) ?? 0) + 1);
    return c;
  };
  const byName = count((m) => m.name), byBoth = count((m) => `${m.name}@${m.version}`);
  return models.map((m, i) => {
    if (byName.get(m.name) === 1) return m.name === ENSEMBLE_KEY ? `${m.name}#${i + 1}` : m.name;
    const nv = `${m.name}@${m.version}`;
    return byBoth.get(nv) === 1 ? nv : `${nv}#${i + 1}`;
  });
}

/** Scores of one input by one scorer. */
export interface ScoredInput {
  row: EvalRow;
  label: BinaryLabel;
  /** The scan failed. */
  error?: { code: string; message: string };
  frames: FrameScore[];
  /** Per-frame calibrated P(FAKE) (same order as `frames`). */
  frameProbs: number[];
  tracks: number;
  /** The face with the highest logit, for the thumbnail. */
  mostFake: { frameIndex: number; timeMs: number; box: Box } | null;
}

/** Frame scores of every input under `scorer`. */
export function scoreInputs(inputs: readonly EvalInput[], scorer: Scorer, logitScale = 1): ScoredInput[] {
  return inputs.map(({ row, result }) => {
    const logits = scorer.inputLogits(result.frames);
    const frames = result.frames.map((f, i) => ({ frameIndex: f.frameIndex, trackId: f.trackId, logit: logits[i] * logitScale }));
    let best = -1;
    frames.forEach((f, i) => {
      if (best < 0 || f.logit > frames[best].logit) best = i;
    });
    return {
      row,
      label: row.label === 'FAKE' ? 1 : 0,
      error: result.status === 'error' ? (result.error ?? { code: 'UNKNOWN', message: 'scan failed' }) : undefined,
      frames,
      frameProbs: frames.map((f) => sigmoid(f.logit)),
      tracks: new Set(frames.map((f) => f.trackId)).size,
      mostFake: best < 0 ? null : { frameIndex: frames[best].frameIndex, timeMs: result.frames[best].timeMs, box: result.frames[best].box },
    };
  });
}

/** Video probability of a scored input under a strategy; null with no faces. */
export function videoProbability(s: ScoredInput, strategy: AggregationStrategy, band: DecisionBand): number | null {
  return aggregateVideo(s.frames, strategy, band).probability;
}

interface Group {
  groupBy: GroupBy;
  group: string;
  includes(row: EvalRow): boolean;
}

/** all; each data set; each (data set, method) of fakes plus that data set's reals; each compression. */
export function groupsOf(rows: readonly EvalRow[]): Group[] {
  const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
  const groups: Group[] = [{ groupBy: 'all', group: '', includes: () => true }];
  for (const d of sorted(rows.map((r) => r.dataset))) groups.push({ groupBy: 'dataset', group: d, includes: (r) => r.dataset === d });
  const methods = sorted(rows.filter((r) => r.label === 'FAKE' && r.method).map((r) => `${r.dataset}/${r.method}`));
  for (const dm of methods) {
    const [d, m] = [dm.slice(0, dm.indexOf('/')), dm.slice(dm.indexOf('/') + 1)];
    groups.push({ groupBy: 'method', group: dm, includes: (r) => r.dataset === d && (r.label === 'REAL' || r.method === m) });
  }
  for (const c of sorted(rows.map((r) => r.compression).filter(Boolean))) {
    groups.push({ groupBy: 'compression', group: c, includes: (r) => r.compression === c });
  }
  return groups;
}

export interface MetricOptions {
  threshold: number;
  resamples: number;
  seed: number;
  /** Inputs of the group without a score. */
  unscored?: number;
}

/**
 * Every metric of a set of clusters (videos; one score each at video level, one per face at frame
 * level). Returns null when there is no score at all.
 */
export function metricRecord(clusters: readonly Cluster[], o: MetricOptions): MetricRecord | null {
  const labels: BinaryLabel[] = [], probs: number[] = [];
  for (const c of clusters) {
    for (const s of c.scores) {
      labels.push(c.label);
      probs.push(s);
    }
  }
  if (labels.length === 0) return null;
  const positives = labels.filter((l) => l === 1).length;
  const both = hasBothClasses(labels);
  const conf = confusion(labels, probs, o.threshold);
  const notes: string[] = [];
  if (!both) notes.push(`only ${positives ? 'FAKE' : 'REAL'} samples: AUC, its interval, EER, AP and the curves need both classes`);
  if (o.unscored) notes.push(`${o.unscored} input(s) without a score (no face or scan error) left out`);
  const roc = both ? rocCurve(labels, probs) : null;
  const pr = both ? prCurve(labels, probs) : null;
  const nonEmpty = clusters.filter((c) => c.scores.length > 0);
  // with one video of a class every resample draws that same video: the interval would be a point
  const ciPossible = both && Math.min(...([0, 1] as const).map((l) => nonEmpty.filter((c) => c.label === l).length)) >= 2;
  if (both && o.resamples > 0 && !ciPossible) notes.push('no AUC interval: it needs at least 2 scored inputs of each class');
  return {
    n: labels.length,
    positives,
    negatives: labels.length - positives,
    auc: both ? rocAuc(labels, probs) : null,
    aucCi95: ciPossible && o.resamples > 0 ? bootstrapCi(nonEmpty, rocAuc, { resamples: o.resamples, seed: o.seed }) : null,
    logLoss: logLoss(labels, probs),
    accuracy: accuracy(conf),
    balancedAccuracy: balancedAccuracy(conf),
    threshold: o.threshold,
    eer: both ? eer(labels, probs) : null,
    averagePrecision: both ? averagePrecision(labels, probs) : null,
    confusion: conf,
    ece: ece(labels, probs, 10),
    roc: roc ? downsampleCurve({ fpr: roc.fpr, tpr: roc.tpr }) : null,
    pr: pr ? downsampleCurve({ recall: pr.recall, precision: pr.precision }) : null,
    reliability: reliability(labels, probs, 10),
    histogram: scoreHistogram(labels, probs, 20),
    ...(o.unscored ? { unscored: o.unscored } : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

/** The evaluations, videos and worst list of every scorer. */
export function evaluate(inputs: readonly EvalInput[], o: EvaluateOptions): EvalResults {
  const resamples = o.resamples ?? 1000, seed = o.seed ?? DEFAULT_EVAL_SEED, worstCount = o.worst ?? DEFAULT_WORST_COUNT;
  const strategies = [o.strategy, ...STRATEGY_NAMES.filter((s) => s !== o.strategy)];
  const rules = new Map(strategies.map((s) => [s, getStrategy(s, o.strategyOptions)] as const));
  const groups = groupsOf(inputs.map((i) => i.row));
  const evaluations: Evaluation[] = [];
  const videos: VideoScore[] = [];
  const worst: WorstVideo[] = [];
  const defaultVideoProbs: { key: string; probs: (number | null)[] }[] = [];
  const labels = inputs.map((i): BinaryLabel => (i.row.label === 'FAKE' ? 1 : 0));
  const clusterBy = o.clusterBy ?? 'input';
  const clusters = inputs.map((i) => clusterKey(i.row, clusterBy));

  const memberSchedule = o.memberSchedule ?? DEFAULT_MEMBER_SCHEDULE;
  for (const scorer of scorersFor(o.models, memberSchedule)) {
    const scored = scoreInputs(inputs, scorer);
    const position = new Map(scored.map((s, i) => [s, i] as const));
    const threshold = thresholdForBand(scorer.band);
    const push = (level: Level, strategy: StrategyName, scoresOf: (s: ScoredInput) => number[]) => {
      for (const g of groups) {
        const members = scored.filter((s) => g.includes(s.row));
        const perInput = members.map((s) => ({ key: clusters[position.get(s)!], label: s.label, scores: scoresOf(s) }));
        const unscored = perInput.filter((c) => c.scores.length === 0).length;
        const metrics = metricRecord(mergeClusters(perInput), { threshold, resamples, seed, unscored });
        if (metrics) evaluations.push({ model: scorer.key, strategy, level, groupBy: g.groupBy, group: g.group, metrics });
      }
    };
    push('frame', o.strategy, (s) => s.frameProbs);
    const videoProbs = new Map<StrategyName, (number | null)[]>();
    for (const [name, rule] of rules) {
      const probs = scored.map((s) => videoProbability(s, rule, scorer.band));
      videoProbs.set(name, probs);
      push('video', name, (s) => {
        const p = probs[position.get(s)!];
        return p === null ? [] : [p];
      });
    }

    defaultVideoProbs.push({ key: scorer.key, probs: videoProbs.get(o.strategy)! });
    videos.push(...videoScoresOf(scored, scorer, rules.get(o.strategy)!));
    worst.push(...worstOf(scored, videoProbs.get(o.strategy)!, scorer.key, worstCount));
  }

  return {
    schema: EVAL_SCHEMA,
    createdAt: o.createdAt ?? new Date().toISOString(),
    index: o.index,
    filter: o.filter,
    models: o.models,
    strategy: o.strategy,
    memberSchedule,
    clusterBy,
    evaluations,
    videos,
    worst,
    ...(defaultVideoProbs.length > 1 ? { comparisons: compareScorers(defaultVideoProbs, labels, clusters, o.strategy, { resamples, seed }) } : {}),
    failures: inputs
      .filter((i) => i.result.status === 'error')
      .map((i) => ({ path: i.row.path, code: i.result.error?.code ?? 'UNKNOWN', message: i.result.error?.message ?? 'scan failed' })),
    timings: o.timings,
  };
}

/**
 * Every pair of scorers at video level (later minus earlier in the run's order, so the ensemble,
 * which comes last, is compared with each member): AUC difference with a paired bootstrap interval
 * over the inputs both scored (resampling the run's clusters).
 */
function compareScorers(
  scorers: readonly { key: string; probs: readonly (number | null)[] }[],
  labels: readonly BinaryLabel[],
  clusters: readonly string[],
  strategy: StrategyName,
  bootstrap: { resamples: number; seed: number },
): Comparison[] {
  const out: Comparison[] = [];
  for (let j = 1; j < scorers.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = scorers[j], b = scorers[i];
      const samples = labels.flatMap((label, k) => {
        const pa = a.probs[k], pb = b.probs[k];
        return pa === null || pb === null ? [] : [{ label, a: pa, b: pb, cluster: clusters[k] }];
      });
      const d = pairedAucDifference(samples, bootstrap);
      if (d) out.push({ model: a.key, baseline: b.key, level: 'video', strategy, n: d.n, aucDifference: d.difference, aucDifferenceCi95: d.ci95 });
    }
  }
  return out;
}

/** Per-input scores of one scorer under one strategy. */
function videoScoresOf(scored: readonly ScoredInput[], scorer: Scorer, rule: AggregationStrategy): VideoScore[] {
  return scored.map((s) => {
    const video = s.error ? null : aggregateVideo(s.frames, rule, scorer.band);
    return {
      ...s.row,
      model: scorer.key,
      strategy: rule.name,
      verdict: video ? video.verdict : null,
      probability: video ? video.probability : null,
      faces: s.frames.length,
      tracks: s.tracks,
      ...(s.error ? { error: s.error } : {}),
    };
  });
}

/** Every input x scorer under `strategy` (as `videos` of results.json, for any strategy). */
export function videoScores(
  inputs: readonly EvalInput[],
  models: readonly ModelEntry[],
  strategy: StrategyName,
  strategyOptions?: StrategyOptions,
  memberSchedule: MemberSchedule = DEFAULT_MEMBER_SCHEDULE,
): VideoScore[] {
  const rule = getStrategy(strategy, strategyOptions);
  return scorersFor(models, memberSchedule).flatMap((scorer) => videoScoresOf(scoreInputs(inputs, scorer), scorer, rule));
}

/** The `count` scored inputs whose probability is furthest from their label, wrongest first. */
function worstOf(scored: readonly ScoredInput[], probs: readonly (number | null)[], model: string, count: number): WorstVideo[] {
  return scored
    .map((s, i) => ({ s, p: probs[i] }))
    .filter((x): x is { s: ScoredInput; p: number } => x.p !== null)
    .map((x) => ({ ...x, wrong: x.s.label === 1 ? 1 - x.p : x.p }))
    .sort((a, b) => b.wrong - a.wrong || a.s.row.path.localeCompare(b.s.row.path))
    .slice(0, count)
    .map(({ s, p }) => ({
      model,
      path: s.row.path,
      label: s.row.label,
      probability: p,
      ...(s.mostFake ? { frameIndex: s.mostFake.frameIndex, timeMs: s.mostFake.timeMs, box: s.mostFake.box } : {}),
    }));
}
