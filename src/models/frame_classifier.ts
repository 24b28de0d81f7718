/**
 * A single-frame FAKE/REAL classifier: an ONNX model (one face crop in, one logit out) run with
 * onnxruntime-node, configured by its manifest.
 */
import { ort } from './ort_runtime.js';
import type { FaceCrop } from '../types.js';
import { ModelLoadError } from '../util/errors.js';
import { loadManifest, type DecisionBand, type ModelManifest } from './manifest.js';
import type { ClassifierSession } from './inference_worker.js';
import { checkTensorMeta, defaultThreads, openClassifierSession, positiveInt, readLogitTensor } from './onnx_session.js';
import { cropsToTensor, fitCropToSize } from './preprocess.js';
import { applyTemperature, type FaceScorer } from './scorer.js';

/** Options of {@link FrameClassifier.load}. */
export interface FrameClassifierOptions {
  /** Crops per `session.run` call. Default 16. */
  batchSize?: number;
  /** onnxruntime intra-op threads. Default: the number of CPUs, at most 4. */
  intraOpNumThreads?: number;
  /**
   * Run the session in the process's inference worker thread, so inference overlaps the caller's
   * own work (onnxruntime-node blocks its calling thread). Default true.
   */
  inferenceWorker?: boolean;
}

export const DEFAULT_BATCH_SIZE = 16;
/** Upper bound of the default thread count: more threads rarely help small CNNs on CPU. */

/** An explanation map of one crop: where, over the crop, the model found its evidence. */
export interface ExplanationMap {
  /** `grad-cam` (>= 0, unnormalised) or `attention` (in [0, 1]), from the manifest. */
  method: 'grad-cam' | 'attention';
  /** Map size (the model's last feature map, e.g. input / 32; attention maps input / 8). */
  width: number;
  height: number;
  /** Row-major values, width * height. The map covers the whole crop. */
  values: Float32Array;
}

/** Loaded frame classifier. Create with {@link FrameClassifier.load}; call {@link dispose} when done. */
export class FrameClassifier implements FaceScorer {
  private session: ClassifierSession | null;
  /** Input tensors' buffers, reused across batches. */
  private readonly inputBuffers: Float32Array[] = [];

  private constructor(
    /** The validated manifest. */
    readonly manifest: ModelManifest,
    /** Absolute path of the manifest file. */
    readonly manifestPath: string,
    /** Absolute path of the ONNX file. */
    readonly onnxPath: string,
    session: ClassifierSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly batchSize: number,
    /** Name of the explanation-map output (manifest `output.explanation.output`), or null. */
    private readonly explanationName: string | null,
  ) {
    this.session = session;
  }

  /**
   * Reads and validates the manifest, then opens its ONNX file.
   *
   * @throws InvalidManifestError if the manifest is unreadable or invalid.
   * @throws ModelLoadError if the manifest is not for a frame (NCHW) model, the ONNX file is missing,
   *   onnxruntime cannot load it, or its inputs/outputs do not fit the manifest.
   * @throws InvalidOptionError for a non-positive-integer `batchSize` or `intraOpNumThreads`.
   */
  static async load(manifestPath: string, options: FrameClassifierOptions = {}): Promise<FrameClassifier> {
    const batchSize = positiveInt('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
    const threads = positiveInt(
      'intraOpNumThreads',
      options.intraOpNumThreads ?? defaultThreads(),
    );
    const { manifest, manifestPath: absManifest, onnxPath } = await loadManifest(manifestPath);
    if (manifest.kind !== 'frame' || manifest.input.layout !== 'NCHW') {
      throw new ModelLoadError(
        absManifest,
        `it is a ${manifest.kind}/${manifest.input.layout} model; a frame/NCHW model is needed`,
      );
    }
    const explanationName = manifest.output.explanation?.output ?? null;
    const session = await openClassifierSession(
      onnxPath,
      threads,
      (sess) => checkSignature(sess, manifest.input.size, explanationName),
      options.inferenceWorker,
    );
    return new FrameClassifier(
      manifest,
      absManifest,
      onnxPath,
      session,
      session.inputNames[0],
      session.outputNames.find((n) => n !== explanationName)!,
      batchSize,
      explanationName,
    );
  }

  /** True when the model has an explanation-map output ({@link explain} works). */
  get explainable(): boolean {
    return this.explanationName !== null;
  }

  /** Calibration temperature from the manifest (1 = uncalibrated). */
  get temperature(): number {
    return this.manifest.calibration.temperature;
  }

  /** The manifest's decision band. */
  get band(): DecisionBand {
    return this.manifest.decision;
  }

  /**
   * Raw (uncalibrated) logits, one per crop, in input order. Crops not at `manifest.input.size`
   * are resized first. Runs in batches of `batchSize`.
   *
   * @throws ModelLoadError if the model's output is not float32 of shape [N, 1] or [N].
   */
  async predict(crops: FaceCrop[]): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new Error(`FrameClassifier ${this.manifest.name} was disposed`);
    const logits = new Float32Array(crops.length);
    for await (const { start, n, input } of this.batches(crops)) {
      // Fetch only the logit: the explanation output (if any) is left to explain().
      const results = await session.run({ [this.inputName]: input }, [this.outputName]);
      logits.set(readLogitTensor(results[this.outputName], n, this.onnxPath, this.outputName), start);
    }
    return logits;
  }

  /**
   * Raw logits and an explanation map per crop, in input order (same preprocessing and batching
   * as {@link predict}).
   *
   * @throws ModelLoadError if the model has no explanation output (see {@link explainable}) or
   *   it is not float32 [N, 1, h, w].
   */
  async explain(crops: FaceCrop[]): Promise<{ logits: Float32Array; maps: ExplanationMap[] }> {
    const session = this.session;
    if (!session) throw new Error(`FrameClassifier ${this.manifest.name} was disposed`);
    const explanation = this.manifest.output.explanation;
    if (!explanation || this.explanationName === null) {
      throw new ModelLoadError(this.manifestPath, 'the model has no explanation output (re-export it with a current unmask_train)');
    }
    const logits = new Float32Array(crops.length);
    const maps: ExplanationMap[] = [];
    for await (const { start, n, input } of this.batches(crops)) {
      const results = await session.run({ [this.inputName]: input });
      logits.set(readLogitTensor(results[this.outputName], n, this.onnxPath, this.outputName), start);
      const value = results[this.explanationName];
      const dims = value?.dims ?? [];
      if (!(value instanceof ort.Tensor) || value.type !== 'float32' || dims.length !== 4 || dims[0] !== n || dims[1] !== 1) {
        throw new ModelLoadError(
          this.onnxPath,
          `output "${this.explanationName}" is ${value?.type ?? 'missing'} [${dims.join(', ')}]; expected float32 [${n}, 1, h, w]`,
        );
      }
      const [h, w] = [Number(dims[2]), Number(dims[3])];
      const data = value.data as Float32Array;
      for (let i = 0; i < n; i++) {
        maps.push({ method: explanation.method, width: w, height: h, values: data.slice(i * h * w, (i + 1) * h * w) });
      }
    }
    return { logits, maps };
  }

  /** Input tensors of `batchSize` crops (resized to the model size when needed), in order. */
  private async *batches(crops: FaceCrop[]): AsyncGenerator<{ start: number; n: number; input: ort.Tensor }> {
    const { size, mean, std } = this.manifest.input;
    for (let start = 0; start < crops.length; start += this.batchSize) {
      const batch = await Promise.all(crops.slice(start, start + this.batchSize).map((c) => fitCropToSize(c, size)));
      const n = batch.length;
      // one reused input buffer per batch size in flight (see cropsToTensor's `into`)
      const buf = this.inputBuffers.pop() ?? new Float32Array(this.batchSize * 3 * size * size);
      try {
        const data = cropsToTensor(batch, size, mean, std, buf.subarray(0, n * 3 * size * size));
        yield { start, n, input: new ort.Tensor('float32', data, [n, 3, size, size]) };
      } finally {
        this.inputBuffers.push(buf);
      }
    }
  }

  /** Calibrated logits: {@link predict} divided by the manifest's temperature. */
  async predictCalibrated(crops: FaceCrop[]): Promise<Float32Array> {
    return applyTemperature(await this.predict(crops), this.temperature);
  }

  /** Releases the onnxruntime session. Safe to call twice. */
  async dispose(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.release();
  }
}

/**
 * Throws (plain Error, wrapped by the caller) unless the session has exactly one input and one
 * output, plus the explanation output when the manifest names one, and, as far as the model's
 * metadata tells, the input is float32 [N, 3, size, size] and the logit output float32 [N, 1] or
 * [N]. Dimensions the model leaves symbolic are not checked here; {@link FrameClassifier.predict}
 * checks the actual output.
 */
function checkSignature(session: ClassifierSession, size: number, explanationName: string | null): void {
  const outputs = explanationName === null ? 1 : 2;
  if (session.inputNames.length !== 1 || session.outputNames.length !== outputs) {
    throw new Error(
      `expected 1 input and ${outputs} output${outputs > 1 ? 's' : ''}, found ${session.inputNames.length} inputs and ${session.outputNames.length} outputs`,
    );
  }
  if (explanationName !== null && !session.outputNames.includes(explanationName)) {
    throw new Error(`the manifest's explanation output "${explanationName}" is not an output of the model (${session.outputNames.join(', ')})`);
  }
  const logitIndex = session.outputNames.findIndex((n) => n !== explanationName);
  checkTensorMeta(session.inputMetadata?.[0], 'input', [[null, 3, size, size]], `[N, 3, ${size}, ${size}] (from the manifest)`);
  checkTensorMeta(session.outputMetadata?.[logitIndex], 'output', [[null], [null, 1]], '[N, 1] or [N]');
}
