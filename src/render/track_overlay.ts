/**
 * What to draw on each frame of an annotated video, from a ScanResult alone: each track's box
 * interpolated between its sampled frames, its running P(FAKE) and the verdict colour. Pure; the
 * pixels are drawn by annotate_video.ts.
 */
import { logit, mean, sigmoid } from '../aggregate/prob.js';
import { decideVerdict, type Verdict } from '../aggregate/verdict.js';
import type { ScanResult } from '../pipeline/scan_result.js';
import type { Box } from '../types.js';

/** Overlay colours per verdict (vivid, so they survive yuv420p chroma subsampling). */
export const VERDICT_COLOURS: Record<Exclude<Verdict, 'NO_FACE'>, [number, number, number]> = {
  REAL: [0, 200, 83],
  UNCERTAIN: [255, 171, 0],
  FAKE: [255, 23, 68],
};

export function hexColour([r, g, b]: readonly number[]): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

export interface TrackOverlay {
  trackId: number;
  box: Box;
  /** Running P(FAKE): sigmoid of the mean calibrated logit of the track's frames scored so far. */
  probability: number;
  verdict: Exclude<Verdict, 'NO_FACE'>;
  label: string;
}

interface Sample {
  frame: number;
  box: Box;
  /** Running mean logit over the track's samples up to and including this one. */
  runningLogit: number;
}

interface TrackPlan {
  trackId: number;
  samples: Sample[];
  /** First and last frame on which the box is shown. */
  from: number;
  to: number;
}

function lerpBox(a: Box, b: Box, t: number): Box {
  const l = (x: number, y: number) => x + (y - x) * t;
  return { x: l(a.x, b.x), y: l(a.y, b.y), width: l(a.width, b.width), height: l(a.height, b.height) };
}

/** Label text of one track: "track N  P(fake) 0.73". */
export function trackLabel(trackId: number, probability: number): string {
  return `track ${trackId}  P(fake) ${probability.toFixed(2)}`;
}

/**
 * Plans the overlays of a scanned video with `frameCount` frames. Outside its sampled frames a box is
 * held: back to midway towards the previous sampled frame of the video (frame 0 if none), and on to
 * midway towards the next one (the last frame if none), so a person who appears late is not boxed from
 * the start. The running score before a track's first sample is that sample's.
 */
export class TrackOverlayPlan {
  private readonly tracks: TrackPlan[];

  constructor(
    private readonly scan: Pick<ScanResult, 'frames' | 'band'>,
    frameCount: number,
  ) {
    const sampled = [...new Set(scan.frames.map((f) => f.frameIndex))].sort((a, b) => a - b);
    const byTrack = new Map<number, ScanResult['frames']>();
    for (const f of scan.frames) byTrack.set(f.trackId, [...(byTrack.get(f.trackId) ?? []), f]);
    this.tracks = [...byTrack.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([trackId, frames]) => {
        const sorted = [...frames].sort((a, b) => a.frameIndex - b.frameIndex);
        const logits: number[] = [];
        const samples = sorted.map((f) => {
          logits.push(logit(f.probability));
          return { frame: f.frameIndex, box: f.box, runningLogit: mean(logits) };
        });
        const first = samples[0].frame, last = samples[samples.length - 1].frame;
        const prev = sampled.filter((s) => s < first).pop();
        const next = sampled.find((s) => s > last);
        return {
          trackId,
          samples,
          from: prev === undefined ? 0 : Math.ceil((prev + first) / 2),
          to: next === undefined ? Math.max(last, frameCount - 1) : Math.floor((last + next) / 2),
        };
      });
  }

  /** The overlays of frame `frame` (0-based), in track order. */
  at(frame: number): TrackOverlay[] {
    const out: TrackOverlay[] = [];
    for (const t of this.tracks) {
      if (frame < t.from || frame > t.to) continue;
      const s = t.samples;
      // last sample at or before this frame (k = -1: before the first)
      let k = -1;
      while (k + 1 < s.length && s[k + 1].frame <= frame) k++;
      let box: Box;
      if (k < 0) box = s[0].box;
      else if (k === s.length - 1 || s[k].frame === frame) box = s[k].box;
      else box = lerpBox(s[k].box, s[k + 1].box, (frame - s[k].frame) / (s[k + 1].frame - s[k].frame));
      const probability = sigmoid(s[Math.max(0, k)].runningLogit);
      const verdict = decideVerdict(probability, this.scan.band) as TrackOverlay['verdict'];
      out.push({ trackId: t.trackId, box, probability, verdict, label: trackLabel(t.trackId, probability) });
    }
    return out;
  }
}
