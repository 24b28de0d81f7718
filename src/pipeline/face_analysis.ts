/**
 * The front of the pipeline, shared by `scan` and `extract`: sampled frames -> BlazeFace detections
 * -> crops cut while the frame is in memory -> tracks. Frames are dropped as soon as their crops
 * are cut, so memory stays flat for long or 4K videos.
 */
import type { BlazeFaceDetector } from '../faces/blazeface.js';
import type { DetectionReport } from '../faces/face_detector_options.js';
import { type CropOptions, DEFAULT_CROP_OPTIONS, makeFaceCrop } from '../faces/crop.js';
import { type FrameDetections, type TrackerOptions, trackFaces } from '../faces/tracker.js';
import { scaleDetection } from '../faces/box_ops.js';
import { type QuarterTurns, VideoOrientation } from '../faces/face_orientation.js';
import { displayWarnings } from '../media/display_chain.js';
import { openFrames } from '../media/frame_source.js';
import { scaledPictureWarning } from '../media/picture_size.js';
import type { MediaInfo } from '../media/media_info.js';
import { DEFAULT_SAMPLING, type SamplingPolicy } from '../media/sampling.js';
import type { FaceCrop } from '../types.js';

export interface FaceAnalysisOptions {
  /** Which frames to look at. Default uniform:32. */
  sampling: SamplingPolicy;
  /** How faces are cut. Default margin 0.3 at 256 px. */
  crop: CropOptions;
  tracker: Partial<TrackerOptions>;
  /**
   * Cuts (side in px and margin) to cut the faces of the `ordinal`-th frame with faces (0-based)
   * with, each straight from the frame, so each classifier gets crops cut at the side and margin it
   * asks for (cropCutFor in scanner.ts; README "Speed"). The first cut's crops are the ones returned
   * in `crops`. Default (and when it returns none): `crop`'s own side and margin.
   */
  cropCuts?: (ordinal: number) => readonly CropCut[];
  /**
   * Called with each frame's crops, of every cut asked for, and the frame's ordinal among the
   * frames with faces (the one `cropCuts` got), as soon as they are cut (track ids are filled in
   * later, in place), so a caller can classify while decoding goes on.
   */
  onFrameCrops?: (crops: FrameCrops, ordinal: number) => void;
}

/** One way of cutting a face out of its frame: the crop's side and its margin (of the face box, per side). */
export interface CropCut {
  size: number;
  margin: number;
}

/** The key of a cut in {@link FrameCrops}: `<side>@<margin>`. */
export function cropCutKey(cut: CropCut): string {
  return `${cut.size}@${cut.margin}`;
}

/** One frame's faces, cut each way asked for: {@link cropCutKey} -> one crop per face, in detection order. */
export type FrameCrops = ReadonlyMap<string, readonly FaceCrop[]>;

export const DEFAULT_FACE_ANALYSIS_OPTIONS: FaceAnalysisOptions = {
  sampling: DEFAULT_SAMPLING,
  crop: DEFAULT_CROP_OPTIONS,
  tracker: {},
};

/** Milliseconds spent per stage. Decoding overlaps detection (ffmpeg runs in its own process). */
export interface StageTimings {
  probeMs: number;
  /** Time spent waiting for ffmpeg to deliver frames. */
  decodeWaitMs: number;
  detectMs: number;
  cropMs: number;
  trackMs: number;
}

export interface TrackSummary {
  trackId: number;
  frames: number;
  firstFrame: number;
  lastFrame: number;
  meanScore: number;
}

export interface FaceAnalysis {
  info: MediaInfo;
  /** Number of frames the sampling policy asked for. */
  framesRequested: number;
  /** Frame indices actually decoded (fewer than requested for a truncated file). */
  framesDecoded: number[];
  /** Every face crop with its track id, in frame order. */
  crops: FaceCrop[];
  tracks: TrackSummary[];
  warnings: string[];
  timings: StageTimings;
}

export async function analyzeFaces(
  path: string,
  detector: BlazeFaceDetector,
  options: Partial<FaceAnalysisOptions> = {},
): Promise<FaceAnalysis> {
  const opt = { ...DEFAULT_FACE_ANALYSIS_OPTIONS, ...options };
  const timings: StageTimings = { probeMs: 0, decodeWaitMs: 0, detectMs: 0, cropMs: 0, trackMs: 0 };
  let t = performance.now();
  // frames are dropped once their crops are cut, so their buffers can be reused for later frames
  const source = await openFrames(path, opt.sampling, { recycleFrames: true });
  timings.probeMs = performance.now() - t;

  // which way the video's faces are turned: settled on its first frame with faces
  const orientation = new VideoOrientation();
  const perFrame: FrameDetections[] = [];
  const small: DetectionReport = { tooSmall: 0, largestTooSmall: 0 };
  let framesWithSmall = 0;
  let framesWithFaces = 0;
  const crops: FaceCrop[] = [];
  const framesDecoded: number[] = [];
  const iterator = source.frames[Symbol.asyncIterator]();
  for (;;) {
    t = performance.now();
    const next = await iterator.next();
    timings.decodeWaitMs += performance.now() - t;
    if (next.done) break;
    const frame = next.value;
    framesDecoded.push(frame.index);
    t = performance.now();
    const smallBefore = small.tooSmall;
    const detections = await detector.detectForVideo(frame, small, orientation);
    if (small.tooSmall > smallBefore) framesWithSmall++;
    timings.detectMs += performance.now() - t;
    t = performance.now();
    // crops are cut from the frame; boxes are reported in the picture's own pixels where it was read scaled down
    const reported = frame.toPicture ? detections.map((d) => scaleDetection(d, frame.toPicture!)) : detections;
    if (detections.length) {
      const asked = opt.cropCuts?.(framesWithFaces) ?? [];
      const cuts = new Map((asked.length ? asked : [opt.crop]).map((c) => [cropCutKey(c), c]));
      const byCut = new Map(
        [...cuts].map(([key, { size, margin }]) => [
          key,
          detections.map((det, k) => ({ ...makeFaceCrop(frame, det, { ...opt.crop, size, margin }, -1, orientation.turns), detection: reported[k] })),
        ]),
      );
      crops.push(...byCut.values().next().value!);
      timings.cropMs += performance.now() - t;
      opt.onFrameCrops?.(byCut, framesWithFaces++);
    }
    perFrame.push({ frameIndex: frame.index, timeMs: frame.timeMs, detections: reported });
  }

  t = performance.now();
  // trackFaces returns detections in the same order as the crops were cut
  const tracked = trackFaces(perFrame, opt.tracker);
  tracked.forEach((tf, i) => (crops[i].trackId = tf.trackId));
  timings.trackMs = performance.now() - t;

  const warnings: string[] = [];
  if (source.report.warning) warnings.push(source.report.warning);
  if (source.info.frameCountEstimated) warnings.push('frame count estimated from duration; sampling may be uneven');
  warnings.push(...displayWarnings(source.info));
  if (source.info.readSize) warnings.push(scaledPictureWarning(source.info, source.info.readSize));
  if (source.info.pages !== undefined)
    warnings.push(`the picture holds ${source.info.pages} pages: only the first was scanned (save the others as pictures of their own to scan them)`);
  if (orientation.turns !== 0 && crops.length > 0) warnings.push(turnedFacesWarning(orientation.turns, source.info.kind));
  if (framesWithSmall)
    warnings.push(
      `faces smaller than ${detector.options.minFaceSize} px left out in ${framesWithSmall} sampled frame(s) (largest ${Math.round(small.largestTooSmall)} px): ` +
        'too little detail to judge, and small real faces score as fakes (--min-face sets the size)',
    );
  return { info: source.info, framesRequested: source.indices.length, framesDecoded, crops, tracks: summarizeTracks(crops), warnings, timings };
}

/** What the report says when the faces were found turned (and were detected and scored upright). */
export function turnedFacesWarning(turns: QuarterTurns, kind: MediaInfo['kind']): string {
  const how = turns === 2 ? 'upside down' : `turned ${turns === 1 ? 'clockwise' : 'anticlockwise'} a quarter turn`;
  const why = kind === 'video' ? 'a video stored turned without rotation metadata, or people lying down' : 'a picture saved turned, or people lying down';
  return `faces are ${how} in the picture (${why}): they were detected and scored turned upright`;
}

export function summarizeTracks(crops: FaceCrop[]): TrackSummary[] {
  const byId = new Map<number, TrackSummary & { scoreSum: number }>();
  for (const c of crops) {
    let s = byId.get(c.trackId);
    if (!s) {
      s = { trackId: c.trackId, frames: 0, firstFrame: c.frameIndex, lastFrame: c.frameIndex, meanScore: 0, scoreSum: 0 };
      byId.set(c.trackId, s);
    }
    s.frames++;
    s.lastFrame = c.frameIndex;
    s.scoreSum += c.detection.score;
  }
  return [...byId.values()]
    .sort((a, b) => a.trackId - b.trackId)
    .map(({ scoreSum, ...s }) => ({ ...s, meanScore: scoreSum / s.frames }));
}
