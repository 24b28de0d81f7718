/**
 * Sampling on reference frames: ffmpeg's decoder may skip the frames that no other frame refers to
 * (`-skip_frame noref`: the non-reference B-frames of H.264/HEVC, about half the frames of a usual
 * encode and half the decoding CPU, measured in README "Speed"). Which frames those are is only known
 * while decoding, so samples are selected by time instead of by number: each sampled frame becomes
 * the first decoded frame at or after it (itself, or a frame or two later), and its true number is
 * read back from its timestamp, which ffmpeg's `showinfo` filter prints (see ffmpeg_log.ts).
 *
 * Times count from the first frame the filter sees (`start_t`): frame 0, which every policy that
 * allows this samples (an I-frame is always decoded). Containers' start times are no substitute:
 * ffmpeg's own shift of timestamps differs between them (measured on MPEG-TS with audio first).
 */
import type { MediaInfo } from './media_info.js';

/** Codecs whose ffmpeg decoder honours `-skip_frame noref` (checked by test/media_reference_frames). */
export const NONREF_SKIPPING_CODECS: ReadonlySet<string> = new Set(['h264', 'hevc']);

/**
 * Least distance, in frames, between consecutive samples. x264's default of 3 B-frames leaves runs
 * of at most 3 non-reference frames, so samples this far apart land on distinct decoded frames; a
 * longer run (a 5-B-frame encode moved samples by up to 5, README) could give two samples one frame,
 * which costs a sample, never a wrong number (decode.ts counts covered samples, not frames).
 */
export const MIN_SAMPLE_GAP = 4;

/** The timing a reference-frame pass needs: the constant frame rate. */
export interface ReferenceFramePlan {
  fps: number;
}

/**
 * The plan when this video and these samples allow skipping, else undefined (decode every frame,
 * select by number): the codec skips non-reference frames, the frame rate is constant (so a
 * timestamp tells the frame number), frame 0 is sampled (times count from it), and the samples
 * are spread out.
 * ffmpeg 4.x (the npm fallback binary) lacks showinfo's `checksum` option and log-level prefixes.
 */
export function referenceFramePlan(info: MediaInfo, indices: readonly number[], ffmpegMajor: number): ReferenceFramePlan | undefined {
  if (ffmpegMajor < 5 || !NONREF_SKIPPING_CODECS.has(info.codec)) return undefined;
  if (!info.constantFrameRate || !(info.fps > 0) || indices[0] !== 0) return undefined;
  for (let i = 1; i < indices.length; i++) if (indices[i] - indices[i - 1] < MIN_SAMPLE_GAP) return undefined;
  return { fps: info.fps };
}

/** Time after frame 0 (seconds) from which a frame counts as at or after sample `index`: half a frame before it. */
function sampleStart(index: number, plan: ReferenceFramePlan): string {
  return ((index - 0.5) / plan.fps).toFixed(6);
}

/**
 * An ffmpeg `select` expression keeping, for each sampled index, the first decoded frame at or after
 * it: a frame is kept when some sample's start lies after the previously kept frame and at or before
 * this one, in time since the first frame (`prev_selected_t` is NAN before the first, and every
 * comparison with NAN is false).
 */
export function selectAtOrAfterExpression(indices: readonly number[], plan: ReferenceFramePlan): string {
  return indices
    .map((i) => {
      const s = sampleStart(i, plan);
      return `gte(t-start_t\\,${s})*not(gte(prev_selected_t-start_t\\,${s}))`;
    })
    .join('+');
}

/** The frame number of a decoded frame at `time` seconds, given frame 0's time (both as ffmpeg's filters count time). */
export function frameIndexAt(time: number, firstFrameTime: number, plan: ReferenceFramePlan): number {
  return Math.max(0, Math.round((time - firstFrameTime) * plan.fps));
}

/** How many of the sorted samples lie at or before `lastIndex`: those a pass that reached it covered. */
export function samplesCovered(indices: readonly number[], lastIndex: number): number {
  let n = 0;
  while (n < indices.length && indices[n] <= lastIndex) n++;
  return n;
}
