/**
 * Clip scoring for temporal (clip) models, as pure functions: which windows of consecutive crops of a
 * track a clip model scores, how tracks shorter than the clip are padded, and how clip logits become
 * per-frame logits. The same rules are used in training (training/unmask_train/clips.py), so a model
 * is validated the way it is scanned.
 *
 * - A track is cut into segments where it misses a sampled frame (more than `maxGap` in a row): a clip
 *   model must never see a jump as if it were motion.
 * - A segment of n >= T crops gives windows starting at 0, stride, 2*stride, ..., plus one ending on
 *   the last crop when the stride does not land there.
 * - A segment of n < T crops gives one window padded by reflection: a -> a a a a ...;
 *   a b c -> a b c b a b c b ... So a 1-frame track (or a still image) is scored, never dropped.
 * - The logit of a crop is the mean of the logits of the windows containing it (each window once).
 */
import type { FaceCrop } from '../types.js';
import { InvalidOptionError } from '../util/errors.js';

export interface ClipPlanOptions {
  /** Frames per clip (T). */
  clipLength: number;
  /** Window stride; default floor(T / 2), at least 1. */
  stride?: number;
  /** Sampled frames a track may miss in a row without being cut. Default 0. */
  maxGap?: number;
}

/** What planning needs of a crop. */
export interface TrackedItem {
  frameIndex: number;
  trackId: number;
}

/** One clip to score: `items` are indices into the planned item list, `clipLength` long, in time order. */
export interface PlannedClip {
  trackId: number;
  items: number[];
}

/** The default window stride for clips of `clipLength` frames: half a clip, at least 1. */
export function defaultStride(clipLength: number): number {
  return Math.max(1, Math.floor(clipLength / 2));
}

/** Position `i` >= 0 of an endless reflection of 0..n-1 (0 1 .. n-1 n-2 .. 1 0 1 ..); n = 1 gives 0. */
export function reflectIndex(i: number, n: number): number {
  if (!(n >= 1)) throw new RangeError(`cannot reflect into an empty segment (n=${n})`);
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const j = i % period;
  return j < n ? j : period - j;
}

/** The `clipLength` positions of a window starting at `start` in a segment of `n` frames, reflected past the end. */
export function windowIndices(n: number, clipLength: number, start = 0): number[] {
  return Array.from({ length: clipLength }, (_, k) => reflectIndex(start + k, n));
}

/** Windows covering every position of a segment of `n` frames (see the module comment). */
export function planWindows(n: number, clipLength: number, stride: number): number[][] {
  checkPlan(clipLength, stride, 0);
  if (n < 1) return [];
  if (n <= clipLength) return [windowIndices(n, clipLength)];
  const starts: number[] = [];
  for (let s = 0; s + clipLength <= n; s += stride) starts.push(s);
  if (starts[starts.length - 1] !== n - clipLength) starts.push(n - clipLength);
  return starts.map((s) => windowIndices(n, clipLength, s));
}

/**
 * Cuts sorted sampled-frame positions of one track into runs whose steps skip at most `maxGap`
 * sampled frames; returns indices into `positions`.
 */
export function splitSegments(positions: readonly number[], maxGap = 0): number[][] {
  const segments: number[][] = [];
  positions.forEach((p, i) => {
    const last = segments[segments.length - 1];
    if (last && p - positions[last[last.length - 1]] <= maxGap + 1) last.push(i);
    else segments.push([i]);
  });
  return segments;
}

/**
 * Plans the clips of every track. `framesDecoded` (the sampled frame indices, in order) tells where a
 * track misses a frame; without it, the distinct frame indices of the items stand in for it.
 * Every item is in at least one clip.
 *
 * @throws InvalidOptionError for a clip length < 1, a stride outside 1..clipLength or a negative maxGap.
 */
export function planTrackClips(
  items: readonly TrackedItem[],
  options: ClipPlanOptions,
  framesDecoded?: readonly number[],
): PlannedClip[] {
  const { clipLength } = options;
  const stride = options.stride ?? defaultStride(clipLength);
  const maxGap = options.maxGap ?? 0;
  checkPlan(clipLength, stride, maxGap);
  const sampled = framesDecoded ?? [...new Set(items.map((c) => c.frameIndex))].sort((a, b) => a - b);
  const position = new Map(sampled.map((f, i) => [f, i]));
  const byTrack = new Map<number, number[]>();
  items.forEach((c, i) => {
    const list = byTrack.get(c.trackId);
    if (list) list.push(i);
    else byTrack.set(c.trackId, [i]);
  });
  const clips: PlannedClip[] = [];
  for (const [trackId, idx] of [...byTrack.entries()].sort((a, b) => a[0] - b[0])) {
    idx.sort((a, b) => items[a].frameIndex - items[b].frameIndex);
    // A frame missing from `sampled` (a caller's inconsistency) falls back to its frame index.
    const positions = idx.map((i) => position.get(items[i].frameIndex) ?? items[i].frameIndex);
    for (const seg of splitSegments(positions, maxGap)) {
      for (const w of planWindows(seg.length, clipLength, stride)) clips.push({ trackId, items: w.map((k) => idx[seg[k]]) });
    }
  }
  return clips;
}

/**
 * Per-item mean of the logits of the clips containing the item, each clip counted once however often
 * reflection repeats the item in it.
 *
 * @throws RangeError if the counts differ, an index is out of range, or an item is in no clip.
 */
export function frameLogitsFromClips(
  itemCount: number,
  clips: readonly { items: readonly number[] }[],
  clipLogits: ArrayLike<number>,
): Float32Array {
  if (clips.length !== clipLogits.length) throw new RangeError(`${clips.length} clips but ${clipLogits.length} logits`);
  const sum = new Float64Array(itemCount);
  const count = new Uint32Array(itemCount);
  clips.forEach((clip, k) => {
    for (const i of new Set(clip.items)) {
      if (!(i >= 0 && i < itemCount)) throw new RangeError(`clip ${k} refers to item ${i} of ${itemCount}`);
      sum[i] += clipLogits[k];
      count[i]++;
    }
  });
  const out = new Float32Array(itemCount);
  for (let i = 0; i < itemCount; i++) {
    if (count[i] === 0) throw new RangeError(`item ${i} is in no clip`);
    out[i] = sum[i] / count[i];
  }
  return out;
}

/** What {@link scoreCropsByClips} needs of a clip model; met by ClipClassifier (src/models/clip_classifier.ts). */
export interface ClipModel {
  readonly clipLength: number;
  /** Window stride the model was validated with; undefined: {@link defaultStride}. */
  readonly stride: number | undefined;
  readonly maxGap: number;
  /** Calibrated logit per clip; `clips[k]` = `clipLength` indices into `crops`, in time order. */
  predictClipsCalibrated(crops: readonly FaceCrop[], clips: readonly (readonly number[])[]): Promise<Float32Array>;
}

/**
 * Calibrated logit per crop from a clip model: the windows of every track ({@link planTrackClips}),
 * scored, then averaged per crop ({@link frameLogitsFromClips}). `stride` overrides the model's.
 */
export async function scoreCropsByClips(
  model: ClipModel,
  crops: readonly FaceCrop[],
  framesDecoded?: readonly number[],
  stride?: number,
): Promise<Float32Array> {
  if (crops.length === 0) return new Float32Array(0);
  const clips = planTrackClips(crops, { clipLength: model.clipLength, stride: stride ?? model.stride, maxGap: model.maxGap }, framesDecoded);
  const logits = await model.predictClipsCalibrated(crops, clips.map((c) => c.items));
  return frameLogitsFromClips(crops.length, clips, logits);
}

function checkPlan(clipLength: number, stride: number, maxGap: number): void {
  if (!Number.isInteger(clipLength) || clipLength < 1) throw new InvalidOptionError(`clip length must be a positive integer, got ${clipLength}`);
  if (!Number.isInteger(stride) || stride < 1 || stride > clipLength)
    throw new InvalidOptionError(`clip stride must be an integer in 1..${clipLength}, got ${stride}`);
  if (!Number.isInteger(maxGap) || maxGap < 0) throw new InvalidOptionError(`clip max gap must be an integer >= 0, got ${maxGap}`);
}
