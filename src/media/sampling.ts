/**
 * Frame sampling policies: which frame indices of a video to decode.
 * All policies return sorted, unique, in-range indices.
 */
import { InvalidOptionError } from '../util/errors.js';

export type SamplingPolicy =
  /** N frames spread evenly over the whole video (ICPR2020 and the DFDC winner use 32). */
  | { kind: 'uniform'; count: number; exact?: boolean }
  /** A fixed rate in frames per second of video time. */
  | { kind: 'fps'; fps: number; exact?: boolean }
  /** `count` consecutive frames from the middle of the video (input for temporal models). */
  | { kind: 'clip'; count: number }
  /** `count` consecutive frames starting at frame `start`. */
  | { kind: 'range'; start: number; count: number };

/*
 * `exact` (uniform and fps only): decode exactly the frame numbers the policy computes. Default
 * false: each sampled frame may move to the next frame the decoder keeps when it skips
 * non-reference frames (see media/reference_frames.ts: usually the same frame or the next one, about
 * half the decoding work on H.264/HEVC). Spread-out samples lose nothing by moving a frame; clip and
 * range samples are consecutive frames and are always exact.
 */

/** True when the policy lets the decoder move samples to nearby reference frames. */
export function allowsNearbyFrames(p: SamplingPolicy): boolean {
  return (p.kind === 'uniform' || p.kind === 'fps') && p.exact !== true;
}

/** Default: 32 frames evenly spread, as ICPR2020 and the DFDC winner. */
export const DEFAULT_SAMPLING: SamplingPolicy = { kind: 'uniform', count: 32 };

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new InvalidOptionError(`${name} must be a positive integer, got ${v}`);
}

export function validateSampling(p: SamplingPolicy): void {
  switch (p.kind) {
    case 'uniform':
    case 'clip':
      positiveInt(`${p.kind} count`, p.count);
      return;
    case 'fps':
      if (!(p.fps > 0) || !Number.isFinite(p.fps)) throw new InvalidOptionError(`fps must be > 0, got ${p.fps}`);
      return;
    case 'range':
      positiveInt('range count', p.count);
      if (!Number.isInteger(p.start) || p.start < 0)
        throw new InvalidOptionError(`range start must be an integer >= 0, got ${p.start}`);
      return;
  }
}

/**
 * Indices to decode from a video of `frameCount` frames at `videoFps`.
 * A video shorter than the policy asks for yields every frame it has.
 */
export function sampleFrameIndices(p: SamplingPolicy, frameCount: number, videoFps: number): number[] {
  validateSampling(p);
  if (frameCount <= 0) return [];
  const last = frameCount - 1;
  switch (p.kind) {
    case 'uniform': {
      if (p.count >= frameCount) return range(0, frameCount);
      if (p.count === 1) return [Math.floor(last / 2)];
      const out = new Set<number>();
      for (let i = 0; i < p.count; i++) out.add(Math.round((i * last) / (p.count - 1)));
      return [...out].sort((a, b) => a - b);
    }
    case 'fps': {
      const step = Math.max(1, (videoFps || 25) / p.fps);
      const out = new Set<number>();
      for (let t = 0; Math.round(t) <= last; t += step) out.add(Math.round(t));
      return [...out].sort((a, b) => a - b);
    }
    case 'clip': {
      const n = Math.min(p.count, frameCount);
      const start = Math.floor((frameCount - n) / 2);
      return range(start, n);
    }
    case 'range': {
      if (p.start > last) return [];
      return range(p.start, Math.min(p.count, frameCount - p.start));
    }
  }
}

function range(start: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => start + i);
}

/**
 * Parses the CLI form: `uniform:32`, `fps:2`, `clip:32`, `range:10:101` (start 10, 101 frames);
 * `uniform:32:exact` and `fps:2:exact` decode exactly the computed frame numbers.
 */
export function parseSampling(spec: string): SamplingPolicy {
  const [kind, a, b, ...rest] = spec.split(':');
  const exact = (s: string | undefined): boolean | undefined => {
    if (s === undefined) return undefined;
    if (s === 'exact') return true;
    throw new InvalidOptionError(`--sample ${spec}: unknown modifier '${s}' (only 'exact', as in uniform:32:exact)`);
  };
  if (rest.length > 0) throw new InvalidOptionError(`--sample ${spec}: too many parts`);
  const num = (s: string | undefined, what: string): number => {
    const v = Number(s);
    if (s === undefined || s === '' || !Number.isFinite(v)) throw new InvalidOptionError(`--sample ${spec}: missing or bad ${what}`);
    return v;
  };
  let p: SamplingPolicy;
  switch (kind) {
    case 'uniform':
      p = { kind, count: num(a, 'frame count'), ...(exact(b) ? { exact: true } : {}) };
      break;
    case 'fps':
      p = { kind, fps: num(a, 'rate'), ...(exact(b) ? { exact: true } : {}) };
      break;
    case 'clip':
      if (b !== undefined) throw new InvalidOptionError(`--sample ${spec}: clip takes one number (its frames are always exact)`);
      p = { kind, count: num(a, 'frame count') };
      break;
    case 'range':
      p = { kind, start: num(a, 'start frame'), count: num(b, 'frame count') };
      break;
    default:
      throw new InvalidOptionError(`--sample ${spec}: unknown policy (use uniform:N, fps:R, clip:N or range:START:N)`);
  }
  validateSampling(p);
  return p;
}

/**
 * An ffmpeg `select` expression for the indices: consecutive runs become `between(n,a,b)`,
 * so a 300-frame clip is one term, not 300.
 */
export function selectExpression(indices: number[]): string {
  const terms: string[] = [];
  let i = 0;
  while (i < indices.length) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    terms.push(j === i ? `eq(n\\,${indices[i]})` : `between(n\\,${indices[i]}\\,${indices[j]})`);
    i = j + 1;
  }
  return terms.join('+');
}
