/** Video-level aggregation: group frame scores into tracks, apply a strategy, decide a verdict. */
import type { DecisionBand } from '../models/manifest.js';
import { logit } from './prob.js';
import { getStrategy, type AggregationStrategy, type StrategyName } from './strategies.js';
import { decideVerdict, type Verdict } from './verdict.js';

/** The score of one face in one frame. */
export interface FrameScore {
  frameIndex: number;
  trackId: number;
  /** Calibrated logit (raw model logit / temperature); sigmoid(logit) = P(FAKE). */
  logit: number;
}

/** Aggregate of one face track. */
export interface TrackResult {
  trackId: number;
  /** Number of scored frames in the track. */
  frames: number;
  /** P(FAKE) of the track by the strategy's track rule. */
  probability: number;
  /** logit(probability), with the probability clipped to [1e-6, 1 - 1e-6]. */
  logit: number;
}

export interface VideoResult {
  /** P(FAKE) of the video by the strategy's video rule; null if no face was scored. */
  probability: number | null;
  verdict: Verdict;
  /** One entry per track, by ascending trackId. */
  tracks: TrackResult[];
}

/**
 * Aggregates the frame scores of one video (or image). Scores are grouped by `trackId` (frames in
 * ascending `frameIndex` within a track); the strategy gives each track's and the video's
 * probability, and `band` the verdict. No scores: probability null, verdict NO_FACE, no tracks.
 *
 * @param strategy a strategy, or the name of one (used with its default options).
 * @throws InvalidOptionError for an unknown strategy name; RangeError for a non-finite logit.
 */
export function aggregateVideo(
  frameScores: readonly FrameScore[],
  strategy: AggregationStrategy | StrategyName,
  band: DecisionBand,
): VideoResult {
  const rule = typeof strategy === 'string' ? getStrategy(strategy) : strategy;
  if (frameScores.length === 0) return { probability: null, verdict: decideVerdict(null, band), tracks: [] };

  const byTrack = new Map<number, FrameScore[]>();
  for (const s of frameScores) {
    const list = byTrack.get(s.trackId);
    if (list) list.push(s);
    else byTrack.set(s.trackId, [s]);
  }
  const groups = [...byTrack.entries()]
    .sort(([a], [b]) => a - b)
    .map(([trackId, scores]) => ({
      trackId,
      logits: scores.sort((a, b) => a.frameIndex - b.frameIndex).map((s) => s.logit),
    }));

  const tracks = groups.map(({ trackId, logits }): TrackResult => {
    const probability = rule.trackProbability(logits);
    return { trackId, frames: logits.length, probability, logit: logit(probability) };
  });
  const probability = rule.videoProbability(groups.map((g) => g.logits));
  return { probability, verdict: decideVerdict(probability, band), tracks };
}
