/**
 * Aggregation strategies: rules that turn per-frame FAKE scores into one probability per face
 * track and one per video. Inputs are calibrated frame logits (raw logit / temperature); every
 * function here is pure.
 */
import { InvalidOptionError } from '../util/errors.js';
import { clipProb, mean, sigmoid } from './prob.js';

/** Calibrated frame logits of one face track (one person), in any order. */
export type TrackLogits = readonly number[];

export type StrategyName = 'mean-logit' | 'confident' | 'identity';

/** An aggregation rule. Both methods throw RangeError on empty input or a non-finite logit. */
export interface AggregationStrategy {
  readonly name: StrategyName;
  /** One-line description (for help texts and reports). */
  readonly description: string;
  /** Probability that one track is FAKE, from its frames' calibrated logits. */
  trackProbability(frameLogits: TrackLogits): number;
  /** Probability that the video is FAKE, from the frame logits of each of its tracks. */
  videoProbability(tracks: readonly TrackLogits[]): number;
}

/** Tunables of the strategies; each applies to one strategy only. */
export interface StrategyOptions {
  /** `confident`: a frame is confidently fake when its probability is above this. Default 0.8. */
  confidentThreshold?: number;
  /** `identity`: tracks with fewer frames are skipped, unless no track has this many. Default 3. */
  minTrackFrames?: number;
}

export const DEFAULT_CONFIDENT_THRESHOLD = 0.8;
export const DEFAULT_MIN_TRACK_FRAMES = 3;
/** `confident`: below this probability a frame is confidently real (fixed in the original rule). */
const CONFIDENT_REAL_BELOW = 0.2;

/** `mean-logit` track rule: sigmoid of the mean frame logit. */
export function meanLogitTrack(frameLogits: TrackLogits): number {
  return sigmoid(mean(checked(frameLogits)));
}

/**
 * `mean-logit` video rule: sigmoid of the mean of the tracks' mean logits weighted by their frame
 * counts, which is the mean of all frame logits pooled.
 */
export function meanLogitVideo(tracks: readonly TrackLogits[]): number {
  return sigmoid(mean(checked(nonEmpty(tracks).flat())));
}

/**
 * The DFDC winner's `confident_strategy` (Seferbekov, 2020) on frame probabilities `p` (n of them):
 *
 * - fakes = count(p > t); if fakes > n / 2.5 and fakes > 11: mean of the p > t;
 * - else if count(p < 0.2) > 0.9 n: mean of the p < 0.2;
 * - else: mean of all p.
 *
 * The original writes `fakes > sz // 2.5` (floor division); for an integer count that is the same
 * test as `fakes > n / 2.5`. With 11 or fewer frames above `t` the first branch never fires, so
 * short videos (n <= 11) always get the second or third branch.
 *
 * @param probs frame probabilities in [0, 1] (non-empty).
 * @param threshold `t`, default 0.8.
 */
export function confidentStrategy(probs: readonly number[], threshold = DEFAULT_CONFIDENT_THRESHOLD): number {
  const n = checked(probs).length;
  const confidentFake = probs.filter((p) => p > threshold);
  if (confidentFake.length > n / 2.5 && confidentFake.length > 11) return mean(confidentFake);
  const confidentReal = probs.filter((p) => p < CONFIDENT_REAL_BELOW);
  if (confidentReal.length > 0.9 * n) return mean(confidentReal);
  return mean(probs);
}

/**
 * `identity` video rule: a video is as fake as its most fake person. Returns the maximum track
 * probability ({@link meanLogitTrack}) over the tracks with at least `minTrackFrames` frames, or
 * over all tracks if none has that many (so a short clip still gets a score).
 */
export function identityVideo(tracks: readonly TrackLogits[], minTrackFrames = DEFAULT_MIN_TRACK_FRAMES): number {
  const long = nonEmpty(tracks).filter((t) => t.length >= minTrackFrames);
  return Math.max(...(long.length > 0 ? long : tracks).map(meanLogitTrack));
}

/** Factories of the strategies by name, each taking the shared {@link StrategyOptions}. */
export const STRATEGIES: Readonly<Record<StrategyName, (options?: StrategyOptions) => AggregationStrategy>> = {
  /** ICPR 2020 (Bonettini et al.): average logits, frames weighted equally across tracks. */
  'mean-logit': () => ({
    name: 'mean-logit',
    description: 'sigmoid of the mean frame logit (all tracks pooled, frames weighted equally)',
    trackProbability: meanLogitTrack,
    videoProbability: meanLogitVideo,
  }),
  /** DFDC winner's heuristic; on the video level all tracks' frames are pooled, as the winner did. */
  confident: (options = {}) => {
    const t = options.confidentThreshold ?? DEFAULT_CONFIDENT_THRESHOLD;
    if (!(t >= 0 && t <= 1)) throw new InvalidOptionError(`confident threshold must be in [0, 1], got ${t}`);
    // clipProb: a mean of clipped probabilities can round just past the clip bounds.
    const rule = (logits: TrackLogits) => clipProb(confidentStrategy(checked(logits).map(sigmoid), t));
    return {
      name: 'confident',
      description: `DFDC winner's confident strategy (t=${t}) on frame probabilities, tracks pooled`,
      trackProbability: rule,
      videoProbability: (tracks) => rule(nonEmpty(tracks).flat()),
    };
  },
  /**
   * Most-fake person: in face swaps often only one of several people is swapped, so averaging
   * across people dilutes the evidence.
   */
  identity: (options = {}) => {
    const minFrames = options.minTrackFrames ?? DEFAULT_MIN_TRACK_FRAMES;
    if (!Number.isInteger(minFrames) || minFrames < 1) {
      throw new InvalidOptionError(`minimum track frames must be a positive integer, got ${minFrames}`);
    }
    return {
      name: 'identity',
      description: `most fake track (sigmoid of its mean logit) among tracks of >= ${minFrames} frames`,
      trackProbability: meanLogitTrack,
      videoProbability: (tracks) => identityVideo(tracks, minFrames),
    };
  },
};

/** Names accepted by {@link getStrategy}. */
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];

/**
 * The strategy called `name`, configured with `options`.
 *
 * @throws InvalidOptionError for an unknown name or an out-of-range option.
 */
export function getStrategy(name: string, options: StrategyOptions = {}): AggregationStrategy {
  if (!Object.hasOwn(STRATEGIES, name)) {
    throw new InvalidOptionError(`unknown aggregation strategy "${name}" (choose one of: ${STRATEGY_NAMES.join(', ')})`);
  }
  return STRATEGIES[name as StrategyName](options);
}

/** Returns `xs` after checking it is non-empty and all finite. */
function checked(xs: readonly number[]): readonly number[] {
  if (xs.length === 0) throw new RangeError('no frame scores to aggregate');
  const bad = xs.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`frame score is not a finite number: ${bad}`);
  return xs;
}

/** Returns `tracks` after checking there is at least one and none is empty. */
function nonEmpty(tracks: readonly TrackLogits[]): readonly TrackLogits[] {
  if (tracks.length === 0) throw new RangeError('no tracks to aggregate');
  if (tracks.some((t) => t.length === 0)) throw new RangeError('a track has no frame scores');
  return tracks;
}
