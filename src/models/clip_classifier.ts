/**
 * A temporal FAKE/REAL classifier: an ONNX model that takes clips of T consecutive face crops of one
 * track, layout NCTHW ([N, 3, T, S, S], as the manifest's `input.layout` says), and returns one logit
 * per clip. Which windows of a track become clips is decided by the caller (see
 * src/pipeline/clip_scoring.ts); this class only packs and runs them.
 */
import { ort } from './ort_runtime.js';
import type { FaceCrop } from '../types.js';
import { ModelLoadError } from '../util/errors.js';
import type { ClassifierSession } from './inference_worker.js';
import { checkTensorMeta, defaultThreads, openClassifierSession, positiveInt, readLogitTensor } from './onnx_session.js';
import { loadManifest, type DecisionBand, type ModelManifest } from './manifest.js';
import { cropsToTensor, fitCropToSize } from './preprocess.js';
import { applyTemperature } from './scorer.js';

/** Options of {@link ClipClassifier.load}. */
export interface ClipClassifierOptions {
  /** Clips per `session.run` call. Default 8. */
  batchSize?: number;
  /** onnxruntime intra-op threads. Default: the number of CPUs, at most 4. */
  intraOpNumThreads?: number;
  /**
   * Run the session in the process's inference worker thread, so inference overlaps the caller's
   * own work (onnxruntime-node blocks its calling thread). Default true.
   */
  inferenceWorker?: boolean;
}

export const DEFAULT_CLIP_BATCH_SIZE = 8;

/** Loaded clip classifier. Create with {@link ClipClassifier.load}; call {@link dispose} when done. */
export class ClipClassifier {
  private session: ClassifierSession | null;

  private constructor(
    readonly manifest: ModelManifest,
    readonly manifestPath: string,
    readonly onnxPath: string,
    session: ClassifierSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly batchSize: number,
  ) {
    this.session = session;
  }

  /**
   * Reads and validates the manifest, then opens its ONNX file.
   *
   * @throws InvalidManifestError if the manifest is unreadable or invalid.
   * @throws ModelLoadError if the manifest is not a clip/NCTHW model with `input.clipLength`, the ONNX
   *   file is missing or unloadable, or its input/output do not fit the manifest.
   * @throws InvalidOptionError for a non-positive-integer `batchSize` or `intraOpNumThreads`.
   */
  static async load(manifestPath: string, options: ClipClassifierOptions = {}): Promise<ClipClassifier> {
    const batchSize = positiveInt('batchSize', options.batchSize ?? DEFAULT_CLIP_BATCH_SIZE);
    const threads = positiveInt('intraOpNumThreads', options.intraOpNumThreads ?? defaultThreads());
    const { manifest, manifestPath: absManifest, onnxPath } = await loadManifest(manifestPath);
    const t = manifest.input.clipLength;
    if (manifest.kind !== 'clip' || manifest.input.layout !== 'NCTHW' || t === undefined) {
      throw new ModelLoadError(
        absManifest,
        `it is a ${manifest.kind}/${manifest.input.layout} model${manifest.kind === 'clip' ? ' without input.clipLength' : ''}; a clip/NCTHW model is needed`,
      );
    }
    const stride = manifest.input.clipStride;
    if (stride !== undefined && stride > t) throw new ModelLoadError(absManifest, `input.clipStride ${stride} exceeds input.clipLength ${t}`);
    const s = manifest.input.size;
    const session = await openClassifierSession(onnxPath, threads, (sess) => {
      if (sess.inputNames.length !== 1 || sess.outputNames.length !== 1) {
        throw new Error(`expected 1 input and 1 output, found ${sess.inputNames.length} inputs and ${sess.outputNames.length} outputs`);
      }
      checkTensorMeta(sess.inputMetadata?.[0], 'input', [[null, 3, t, s, s]], `[N, 3, ${t}, ${s}, ${s}] (from the manifest)`);
      checkTensorMeta(sess.outputMetadata?.[0], 'output', [[null], [null, 1]], '[N, 1] or [N]');
    }, options.inferenceWorker);
    return new ClipClassifier(manifest, absManifest, onnxPath, session, session.inputNames[0], session.outputNames[0], batchSize);
  }

  /** Frames per clip (T). */
  get clipLength(): number {
    return this.manifest.input.clipLength!;
  }

  /** Window stride from the manifest, or undefined (the planner's default, T / 2). */
  get stride(): number | undefined {
    return this.manifest.input.clipStride;
  }

  /** Sampled frames a track may miss without being cut (manifest, default 0). */
  get maxGap(): number {
    return this.manifest.input.clipMaxGap ?? 0;
  }

  get temperature(): number {
    return this.manifest.calibration.temperature;
  }

  get band(): DecisionBand {
    return this.manifest.decision;
  }

  /**
   * Raw logits, one per clip. `clips[k]` lists `clipLength` indices into `crops`, in time order (an
   * index may repeat: padding). Each crop is resized and normalised once, however many clips use it.
   *
   * @throws RangeError if a clip has the wrong length or an index out of range.
   * @throws ModelLoadError if the model's output is not float32 [N, 1] or [N].
   */
  async predictClips(crops: readonly FaceCrop[], clips: readonly (readonly number[])[]): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new Error(`ClipClassifier ${this.manifest.name} was disposed`);
    const { size, mean, std } = this.manifest.input;
    const t = this.clipLength;
    for (const [k, c] of clips.entries()) {
      if (c.length !== t) throw new RangeError(`clip ${k} has ${c.length} frames; the model takes ${t}`);
      for (const i of c) if (!(Number.isInteger(i) && i >= 0 && i < crops.length)) throw new RangeError(`clip ${k} refers to crop ${i} of ${crops.length}`);
    }
    const used = [...new Set(clips.flat())].sort((a, b) => a - b);
    const slot = new Map(used.map((i, k) => [i, k]));
    const fitted = await Promise.all(used.map((i) => fitCropToSize(crops[i], size)));
    const frames = cropsToTensor(fitted, size, mean, std);
    const logits = new Float32Array(clips.length);
    for (let start = 0; start < clips.length; start += this.batchSize) {
      const batch = clips.slice(start, start + this.batchSize).map((c) => c.map((i) => slot.get(i)!));
      const data = assembleClips(frames, size, batch);
      const results = await session.run({ [this.inputName]: new ort.Tensor('float32', data, [batch.length, 3, t, size, size]) });
      logits.set(readLogitTensor(results[this.outputName], batch.length, this.onnxPath, this.outputName), start);
    }
    return logits;
  }

  /** {@link predictClips} divided by the manifest's temperature. */
  async predictClipsCalibrated(crops: readonly FaceCrop[], clips: readonly (readonly number[])[]): Promise<Float32Array> {
    return applyTemperature(await this.predictClips(crops, clips), this.temperature);
  }

  async dispose(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.release();
  }
}

/**
 * Packs clips into one NCTHW float32 buffer. `frames` holds normalised frames NCHW
 * ([F, 3, size, size], as {@link cropsToTensor} returns); `clips[n][t]` is the frame at time t of clip n.
 * Pure.
 */
export function assembleClips(frames: Float32Array, size: number, clips: readonly (readonly number[])[]): Float32Array {
  const plane = size * size;
  const t = clips[0]?.length ?? 0;
  const out = new Float32Array(clips.length * 3 * t * plane);
  clips.forEach((clip, n) => {
    clip.forEach((f, ti) => {
      for (let c = 0; c < 3; c++) {
        const src = (f * 3 + c) * plane;
        out.set(frames.subarray(src, src + plane), ((n * 3 + c) * t + ti) * plane);
      }
    });
  });
  return out;
}
