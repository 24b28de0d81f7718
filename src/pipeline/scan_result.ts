/**
 * The result of scanning one input: the documented, stable JSON schema `unmask.scan/1`
 * (printed by `unmask scan --json`; see README "JSON output").
 */
import type { Verdict } from '../aggregate/verdict.js';
import type { StrategyName } from '../aggregate/strategies.js';
import type { DisplayStep } from '../media/display_chain.js';
import type { Box } from '../types.js';

export const SCAN_SCHEMA = 'unmask.scan/1';

export interface ScanTimings {
  probeMs: number;
  /** Waiting for ffmpeg (decoding overlaps detection). */
  decodeWaitMs: number;
  detectMs: number;
  cropMs: number;
  trackMs: number;
  classifyMs: number;
  totalMs: number;
}

export interface ScanFrameScore {
  frameIndex: number;
  timeMs: number;
  trackId: number;
  /** Calibrated P(FAKE) of this face in this frame. */
  probability: number;
  /**
   * Calibrated P(FAKE) of each model alone, in the order of `ScanResult.models` (the ensemble's
   * members); null for a frame model that the member schedule did not run on this frame (`alternate`,
   * the default: from the second frame with faces on, one frame model per frame).
   */
  modelProbabilities: (number | null)[];
  /** Face box in frame pixels. */
  box: Box;
  detectorScore: number;
}

export interface ScanTrack {
  trackId: number;
  frames: number;
  firstFrame: number;
  lastFrame: number;
  /** P(FAKE) of the track under the chosen strategy. */
  probability: number;
}

export interface ScanResult {
  schema: typeof SCAN_SCHEMA;
  /** The input path as given (absolute). */
  file: string;
  status: 'ok' | 'error';
  /** FAKE / REAL / UNCERTAIN / NO_FACE; null when status is error. */
  verdict: Verdict | null;
  /** Calibrated P(FAKE) of the whole input; null for NO_FACE and errors. */
  probability: number | null;
  strategy: StrategyName;
  /** Probability band: below realBelow REAL, at or above fakeAbove FAKE, between UNCERTAIN. */
  band: { realBelow: number; fakeAbove: number };
  models: { name: string; version: string }[];
  media: {
    kind: 'video' | 'image';
    /** Display size (after rotation and any stretch to square pixels). */
    width: number;
    height: number;
    fps: number;
    frameCount: number;
    durationMs: number;
    /** What the decoding did, as a player does, before the scan saw the frames (display_chain.ts); usually none. */
    display: DisplayStep[];
  } | null;
  framesSampled: number;
  framesDecoded: number;
  tracks: ScanTrack[];
  frames: ScanFrameScore[];
  warnings: string[];
  timings: ScanTimings;
  /** Present when status is error. */
  error?: { code: string; message: string };
}
