/**
 * The library's main entry: a Scanner holds the face detector and the model(s) loaded once, and
 * scans inputs one after another. `scanVideo` is the one-shot convenience wrapper.
 */
import { aggregateVideo } from '../aggregate/aggregate.js';
import { sigmoid } from '../aggregate/prob.js';
import { getStrategy, type StrategyName, type StrategyOptions } from '../aggregate/strategies.js';
import { BlazeFaceDetector } from '../faces/blazeface.js';
import { type CropOptions, DEFAULT_CROP_OPTIONS } from '../faces/crop.js';
import type { FaceDetectorOptions } from '../faces/face_detector_options.js';
import type { TrackerOptions } from '../faces/tracker.js';
import { displaySteps } from '../media/display_chain.js';
import { prewarmFifos } from '../media/fifo.js';
import { prewarmFrameReader } from '../media/frame_reader.js';
import { mediaTools } from '../media/tools.js';
import { DEFAULT_SAMPLING, type SamplingPolicy } from '../media/sampling.js';
import type { Ensemble } from '../models/ensemble.js';
import { DEFAULT_MEMBER_SCHEDULE, MEMBER_SCHEDULES, type MemberSchedule, membersForFrame } from '../models/member_schedule.js';
import type { ModelManifest } from '../models/manifest.js';
import { resolveModel } from '../models/registry.js';
import type { FaceCrop } from '../types.js';
import { InvalidOptionError, UnmaskError } from '../util/errors.js';
import { analyzeFaces, cropCutKey, type CropCut, type FrameCrops } from './face_analysis.js';
import { SCAN_SCHEMA, type ScanResult, type ScanTimings } from './scan_result.js';
import { ScanModels, ScanModelsPlan } from './scan_models.js';

export interface ScanOptions {
  /** Model manifests (paths) or shipped model names; several form an ensemble (mean of calibrated logits). Default: the shipped default model. */
  models: string[];
  /**
   * Frames to look at. Default uniform:32 (as ICPR2020 and the DFDC winner); with a clip (temporal)
   * model, the consecutive frames its manifest asks for (`input.sampling`, e.g. clip:64).
   */
  sampling: SamplingPolicy;
  /** Frame -> track -> video aggregation. Default `mean-logit` (see README for the measurement behind it). */
  strategy: StrategyName;
  strategyOptions: StrategyOptions;
  detector: Partial<FaceDetectorOptions>;
  tracker: Partial<TrackerOptions>;
  /** onnxruntime threads per classifier session. Default: min(4, CPUs). The detector has its own (`detector.threads`, default 1). */
  threads?: number;
  /**
   * Which frame-model ensemble members score each frame's faces (member_schedule.ts). Default
   * `alternate`: the first frame with faces gets every member, later ones one member each in turn;
   * `every-frame` runs every member on every face (what `unmask eval` does, to measure each member).
   */
  memberSchedule: MemberSchedule;
}

export const DEFAULT_SCAN_OPTIONS: ScanOptions = {
  models: [],
  sampling: DEFAULT_SAMPLING,
  strategy: 'mean-logit',
  strategyOptions: {},
  detector: {},
  tracker: {},
  memberSchedule: DEFAULT_MEMBER_SCHEDULE,
};

const emptyTimings = (): ScanTimings => ({ probeMs: 0, decodeWaitMs: 0, detectMs: 0, cropMs: 0, trackMs: 0, classifyMs: 0, totalMs: 0 });

/** Optional callbacks of one scan. */
export interface ScanHooks {
  /**
   * Every face crop the scan scores, in the order of the result's `frames`, with track ids, once
   * tracking is done (e.g. for `--explain`, which would otherwise decode and detect again).
   */
  onCrops?: (crops: readonly FaceCrop[]) => void;
}

/**
 * Frame models with a smaller input side get their crops cut at the side their training crops were
 * cut at (the manifest's `crop.size`, 256 px by default) and resized to their own with sharp
 * (Lanczos), as those training crops were; larger ones get crops cut straight at their side. Cut
 * straight at 96 px, the default's B0 member lost DFDC validation video AUC (0.598 -> 0.590, paired
 * -0.008 [-0.012, -0.004]): an area-averaged crop that small is softer than the Lanczos-resized
 * ones it was trained on. Its 128 and 150 px peers, cut straight, ranked as before (README "Speed").
 */
export const MIN_STRAIGHT_CROP_SIDE = 120;

/** The side a frame model's crops are cut at (then resized to its input side if that differs). */
export function cropSideFor(m: Pick<ModelManifest, 'input' | 'crop'>): number {
  return m.input.size >= MIN_STRAIGHT_CROP_SIDE ? m.input.size : Math.max(m.input.size, m.crop.size ?? DEFAULT_CROP_OPTIONS.size);
}

/** The margin a model's crops are cut with: its manifest's, else the default (0.3). */
export function cropMarginOf(m: Pick<ModelManifest, 'crop'>): number {
  return m.crop.margin ?? DEFAULT_CROP_OPTIONS.margin;
}

/** How a frame model's crops are cut: at {@link cropSideFor}, with the margin it was trained on. */
export function cropCutFor(m: Pick<ModelManifest, 'input' | 'crop'>): CropCut {
  return { size: cropSideFor(m), margin: cropMarginOf(m) };
}

/**
 * How a scan cuts the crops it hands out (`onCrops`) and clip models read: the first model's policy
 * and margin, at the largest model's side. Crops are cut straight at the models' input size:
 * measured against cutting at the training crops' side (256) and resizing, 2-5x less time per face
 * for the same picture (logits on 181 dev faces: correlation 0.998, mean shift +0.07; FF++ c40 test
 * video AUC 0.696 against 0.695, see README). Frame models of other sides or margins get crops cut
 * their own way too (`cropCuts` of analyzeFaces), not resized from these; small ones at their
 * training crops' side ({@link cropSideFor}; README "Speed").
 */
export function scanCropOptions(members: readonly ModelManifest[]): CropOptions {
  const first = members[0];
  return {
    policy: first.crop.policy,
    margin: cropMarginOf(first),
    size: Math.max(...members.map((m) => m.input.size)),
  };
}

/**
 * Members may differ in crop side and, frame models, in margin (each gets crops cut its own way), but
 * not in policy. Clip models read the scan's own crops (the first member's margin), so theirs must match.
 * @throws InvalidOptionError naming the first member that breaks either rule.
 */
export function checkCropPolicies(members: readonly ModelManifest[]): void {
  const first = members[0];
  for (const m of members) {
    if (m.crop.policy !== first.crop.policy)
      throw new InvalidOptionError(`ensemble members must share one crop policy (${first.name}: ${first.crop.policy}, ${m.name}: ${m.crop.policy})`);
    if (m.kind === 'clip' && cropMarginOf(m) !== cropMarginOf(first))
      throw new InvalidOptionError(`clip model ${m.name} needs crops with margin ${cropMarginOf(m)}, but the scan cuts them with ${cropMarginOf(first)} (its first model's, ${first.name}); list it first`);
  }
}

/** Frame sizes whose detector views are derived before the first scan: 16:9, landscape and portrait (most videos). */
const WARM_FRAME_SIZES: readonly [number, number][] = [
  [1920, 1080],
  [1080, 1920],
];

/**
 * A first scan's one-off costs, paid while the classifiers load: finding ffmpeg (it runs `ffmpeg
 * -version`), the first FIFOs (one `mkfifo`), a frame-reading thread, and the detector's views of
 * 16:9 frames. Measured on the bench clip, they held back the first frame of a CLI scan by about
 * 0.5 s. Failures are left for the scan to meet and report as it always did (a missing ffmpeg is an
 * error of that input).
 */
async function warmUp(detector: BlazeFaceDetector): Promise<void> {
  try {
    mediaTools();
  } catch {
    // reported by the scan that needs the tools
  }
  prewarmFifos();
  prewarmFrameReader();
  await Promise.all(WARM_FRAME_SIZES.map(([w, h]) => detector.prepareForFrames(w, h)));
}

export class Scanner {
  /** The sessions once open; scans started before that wait for them where they first classify. */
  private readonly loading: Promise<ScanModels>;
  /** Why the sessions failed to open, once they have: a fault of the models, not of any input. */
  private loadError: unknown;

  private constructor(
    readonly options: ScanOptions,
    private readonly detector: BlazeFaceDetector,
    private readonly plan: ScanModelsPlan,
    loading: Promise<ScanModels>,
    private readonly crop: CropOptions,
  ) {
    this.loading = loading;
    loading.catch((e) => (this.loadError = e));
  }

  /**
   * Loads the models and the detector; resolves when every session is open.
   * @throws InvalidOptionError, InvalidManifestError or ModelLoadError for models that cannot be used.
   */
  static async create(options: Partial<ScanOptions> = {}): Promise<Scanner> {
    const scanner = await Scanner.open(options);
    try {
      await scanner.ready;
    } catch (e) {
      await scanner.dispose();
      throw e;
    }
    return scanner;
  }

  /**
   * {@link create} that resolves as soon as the manifests are read and the detector is ready, while
   * the classifiers' sessions still open in the inference worker: a first scan can probe, decode and
   * detect meanwhile (about 0.4 s of a CLI scan of the bench clip). A session that fails to open makes
   * {@link ready} reject and every scan that classifies throw that error (not an error result: the
   * models are at fault, not the input), so a caller must await {@link ready} before trusting results.
   * @throws InvalidOptionError or InvalidManifestError, as create.
   */
  static async open(options: Partial<ScanOptions> = {}): Promise<Scanner> {
    const opt: ScanOptions = { ...DEFAULT_SCAN_OPTIONS, ...options };
    getStrategy(opt.strategy); // validates the name early
    if (!MEMBER_SCHEDULES.includes(opt.memberSchedule)) {
      throw new InvalidOptionError(`member schedule must be one of ${MEMBER_SCHEDULES.join(', ')}, got '${opt.memberSchedule}'`);
    }
    const paths = await Promise.all((opt.models.length ? opt.models : [undefined]).map((m) => resolveModel(m)));
    const plan = await ScanModelsPlan.read(paths);
    const members = plan.manifests;
    checkCropPolicies(members);
    // clip models want consecutive frames: their manifest's policy unless the caller chose one
    opt.sampling = options.sampling ?? plan.preferredSampling ?? DEFAULT_SAMPLING;
    // the classifiers open in the inference worker; the main thread meanwhile loads the detector and
    // does the first scan's one-off set-up (warmUp)
    const loading = ScanModels.open(plan, { intraOpNumThreads: opt.threads });
    loading.catch(() => undefined); // met by ready and the scans; not an unhandled rejection meanwhile
    let detector: BlazeFaceDetector;
    try {
      detector = await BlazeFaceDetector.load({ ...opt.detector });
      await warmUp(detector);
    } catch (e) {
      await loading.then((m) => m.dispose(), () => undefined);
      throw e;
    }
    return new Scanner(opt, detector, plan, loading, scanCropOptions([...members]));
  }

  /** Resolves when every classifier session is open; rejects with the reason one could not be. */
  get ready(): Promise<void> {
    return this.loading.then(() => undefined);
  }

  get models(): { name: string; version: string }[] {
    return this.plan.manifests.map((m) => ({ name: m.name, version: m.version }));
  }

  /**
   * Scans one video or image. User-caused failures become a result with status `error`, never a throw.
   * Several scans may run at once on one Scanner (scan_many.ts): they share the loaded models.
   */
  async scan(path: string, hooks: ScanHooks = {}): Promise<ScanResult> {
    const t0 = performance.now();
    const base = {
      schema: SCAN_SCHEMA,
      file: path,
      strategy: this.options.strategy,
      band: this.plan.band,
      models: this.models,
    } as const;
    try {
      const frameManifests = this.plan.frameManifests;
      const classifier = frameManifests.length
        ? new StreamingClassifier(frameManifests, this.loading.then((m) => m.frames!), this.options.memberSchedule)
        : null;
      // the crops handed out (onCrops) and read by clip models are cut at the scan's side on every frame
      const handedOut = hooks.onCrops !== undefined || this.plan.clipManifests.length > 0;
      const a = await analyzeFaces(path, this.detector, {
        sampling: this.options.sampling,
        crop: this.crop,
        tracker: this.options.tracker,
        cropCuts: classifier ? (ordinal) => [...(handedOut ? [this.crop] : []), ...classifier.cutsFor(ordinal)] : undefined,
        onFrameCrops: classifier ? (crops, ordinal) => classifier.add(crops, ordinal) : undefined,
      });
      hooks.onCrops?.(a.crops);
      const framePerModel = classifier ? await classifier.finish() : [];
      const scorer = await this.loading;
      const t = performance.now();
      // clip models score whole tracks, so they run after tracking
      const perModel = await scorer.combine(framePerModel, a.crops, a.framesDecoded);
      const logits = this.plan.ensembleLogits(perModel, a.crops.map((c) => c.trackId));
      const classifyMs = (classifier?.busyMs ?? 0) + performance.now() - t;
      const samplingWarning = this.plan.samplingWarning(a.framesDecoded);
      const frameScores = a.crops.map((c, i) => ({ frameIndex: c.frameIndex, trackId: c.trackId, logit: logits[i] }));
      const video = aggregateVideo(frameScores, getStrategy(this.options.strategy, this.options.strategyOptions), this.plan.band);
      const { info } = a;
      return {
        ...base,
        status: 'ok',
        verdict: video.verdict,
        probability: video.probability,
        media: {
          kind: info.kind, width: info.width, height: info.height, fps: info.fps, frameCount: info.frameCount,
          durationMs: Math.round(info.durationMs), display: displaySteps(info),
        },
        framesSampled: a.framesRequested,
        framesDecoded: a.framesDecoded.length,
        tracks: video.tracks.map((tr) => {
          const s = a.tracks.find((x) => x.trackId === tr.trackId)!;
          return { trackId: tr.trackId, frames: tr.frames, firstFrame: s.firstFrame, lastFrame: s.lastFrame, probability: tr.probability };
        }),
        frames: a.crops.map((c, i) => ({
          frameIndex: c.frameIndex,
          timeMs: Math.round(c.timeMs),
          trackId: c.trackId,
          probability: sigmoid(logits[i]),
          modelProbabilities: perModel.map((m) => (Number.isNaN(m[i]) ? null : sigmoid(m[i]))),
          box: c.detection.box,
          detectorScore: c.detection.score,
        })),
        warnings: samplingWarning ? [...a.warnings, samplingWarning] : a.warnings,
        timings: { ...a.timings, classifyMs, totalMs: performance.now() - t0 },
      };
    } catch (e) {
      // models that could not be opened fail the scan itself, whatever its input
      if (this.loadError !== undefined && e === this.loadError) throw e;
      if (!(e instanceof UnmaskError)) throw e;
      return {
        ...base,
        status: 'error',
        verdict: null,
        probability: null,
        media: null,
        framesSampled: 0,
        framesDecoded: 0,
        tracks: [],
        frames: [],
        warnings: [],
        timings: { ...emptyTimings(), totalMs: performance.now() - t0 },
        error: { code: e.code, message: e.message },
      };
    }
  }

  async dispose(): Promise<void> {
    await Promise.all([this.detector.dispose(), this.loading.then((m) => m.dispose(), () => undefined)]);
  }
}

/**
 * Classifies crops in batches while frames are still being decoded: the batches queue behind each
 * other, so one ONNX session runs at a time, and only the last batches are left when decoding ends.
 * Each member has its own queue, fed with the frames the member schedule gives it.
 */
class StreamingClassifier {
  /**
   * Faces per classifier call. 4 rather than 16: in alternating bench runs (4 rounds) a scan took
   * 1.66-1.86 CPU-s against 1.77-1.93 and peaked at 378-428 MB against 489-510 MB (README "Speed").
   * The 160 px MobileNetV2 ran at 6.4 against 10.1 ms per face (median, one thread): a batch of 16
   * outgrows the core's cache. Smaller batches also start while frames are still being decoded.
   */
  static readonly BATCH = 4;
  busyMs = 0;
  private added = 0;
  private readonly pending: { crops: FaceCrop[]; at: number[] }[];
  private readonly batches: Promise<{ member: number; at: number[]; logits: Float32Array }>[] = [];
  private readonly scorer: Promise<Ensemble>;
  private tail: Promise<unknown>;

  /** Per member: how its crops are cut ({@link cropCutFor}). */
  private readonly cuts: CropCut[];

  /**
   * `members`: the frame members' manifests, in ensemble order; `scorer`: their ensemble, once its
   * sessions are open (batches queue behind it, so crops can be added before).
   */
  constructor(
    private readonly members: readonly ModelManifest[],
    scorer: Promise<Ensemble>,
    private readonly schedule: MemberSchedule,
  ) {
    this.pending = members.map(() => ({ crops: [], at: [] }));
    this.cuts = members.map((m) => cropCutFor(m));
    this.scorer = scorer;
    this.tail = scorer;
    // a failure to open reaches the caller through finish(); a scan that ends before it must not leave it unhandled
    scorer.catch(() => undefined);
  }

  /** The crop cuts the members that score the `ordinal`-th frame with faces take. */
  cutsFor(ordinal: number): CropCut[] {
    return membersForFrame(this.schedule, ordinal, this.members.length).map((m) => this.cuts[m]);
  }

  /** The crops of the `ordinal`-th frame with faces (all its faces), cut at least the ways {@link cutsFor} gave it. */
  add(byCut: FrameCrops, ordinal: number): void {
    let faces = 0;
    for (const m of membersForFrame(this.schedule, ordinal, this.members.length)) {
      const crops = byCut.get(cropCutKey(this.cuts[m]));
      if (!crops) throw new Error(`no crops cut at ${cropCutKey(this.cuts[m])} for ${this.members[m].name}`);
      faces = crops.length;
      const queue = this.pending[m];
      queue.crops.push(...crops);
      queue.at.push(...crops.map((_, k) => this.added + k));
      // whole batches only (the classifier would split a longer call into its own batches)
      while (queue.crops.length >= StreamingClassifier.BATCH) this.flush(m, StreamingClassifier.BATCH);
    }
    this.added += faces;
  }

  /** Calibrated logits per member for every crop added, in order; NaN where the schedule skipped the member. */
  async finish(): Promise<Float32Array[]> {
    this.pending.forEach((_, m) => this.flush(m));
    const out = this.members.map(() => new Float32Array(this.added).fill(Number.NaN));
    for (const { member, at, logits } of await Promise.all(this.batches)) at.forEach((i, k) => (out[member][i] = logits[k]));
    return out;
  }

  private flush(member: number, count = this.pending[member].crops.length): void {
    if (count === 0) return;
    const queue = this.pending[member];
    const crops = queue.crops.splice(0, count);
    const at = queue.at.splice(0, count);
    const run = this.tail.then(async () => {
      const ensemble = await this.scorer;
      const t = performance.now();
      const logits = await ensemble.members[member].predictCalibrated(crops);
      this.busyMs += performance.now() - t;
      return { member, at, logits };
    });
    this.tail = run.catch(() => undefined);
    this.batches.push(run);
  }
}

/**
 * One-shot: loads the models, scans one input, frees everything. Prefer a Scanner for many inputs.
 * @throws ModelLoadError and the other errors of Scanner.create.
 */
export async function scanVideo(path: string, options: Partial<ScanOptions> = {}): Promise<ScanResult> {
  // open: the input is probed, decoded and detected while the classifiers load; a model that cannot
  // be opened still throws, from the scan or from ready
  const scanner = await Scanner.open(options);
  try {
    const result = await scanner.scan(path);
    await scanner.ready;
    return result;
  } finally {
    await scanner.dispose();
  }
}
