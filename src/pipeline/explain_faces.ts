/**
 * `unmask scan --explain <dir>`: explanation maps of every face crop a scan looked at, as PNGs.
 *
 * The Scanner does not hand out its crops, so this runs the same front end again (same sampling,
 * detector and tracker options, same crop policy as the scanner derives from the first model's
 * manifest): decoding and detection are deterministic, so the crops are the ones the scan scored.
 * That doubles decode + detection time, which only `--explain` pays.
 *
 * Each explainable frame model (a manifest with `output.explanation`: Grad-CAM or attention) writes
 * `<dir>/<input key>/<model name>/f<frame>_t<track>.png` (+ `maps.json`); other models (no such
 * output, or clip models) are skipped with a warning; if no model can explain, {@link
 * FaceExplainer.create} fails early. Give it the scanner's resolved options (`scanner.options`), so
 * that the sampling is the one the scan used.
 */
import { join } from 'node:path';
import { BlazeFaceDetector } from '../faces/blazeface.js';
import { type CropOptions, DEFAULT_CROP_OPTIONS } from '../faces/crop.js';
import { Ensemble } from '../models/ensemble.js';
import type { FrameClassifier } from '../models/frame_classifier.js';
import { loadManifest } from '../models/manifest.js';
import { resolveModels } from '../models/registry.js';
import { writeExplanationMaps, type WrittenMap } from '../render/explain_maps.js';
import { InvalidOptionError } from '../util/errors.js';
import { analyzeFaces } from './face_analysis.js';
import { DEFAULT_SCAN_OPTIONS, type ScanOptions } from './scanner.js';

/** What {@link FaceExplainer.explain} wrote for one input. */
export interface ExplainOutput {
  /** Maps per explainable model name. */
  maps: Record<string, WrittenMap[]>;
}

export class FaceExplainer {
  private constructor(
    private readonly options: ScanOptions,
    private readonly detector: BlazeFaceDetector,
    private readonly models: Ensemble,
    private readonly crop: CropOptions,
    /** One line per model that cannot explain (reported once by the caller). */
    readonly warnings: string[],
  ) {}

  /**
   * Loads the detector and the models with the same options as `Scanner.create(options)`.
   *
   * @throws InvalidOptionError if none of the models has an explanation output.
   */
  static async create(options: Partial<ScanOptions> = {}): Promise<FaceExplainer> {
    const opt: ScanOptions = { ...DEFAULT_SCAN_OPTIONS, ...options };
    const paths = await resolveModels(opt.models);
    const manifests = await Promise.all(paths.map(async (p) => (await loadManifest(p)).manifest));
    const warnings = manifests
      .filter((m) => m.kind !== 'frame' || !m.output.explanation)
      .map((m) => `--explain: model ${m.name} has no explanation output (${m.kind === 'frame' ? 're-export it with python -m unmask_train export' : 'clip models have none'}); no maps for it`);
    const explainable = paths.filter((_, i) => manifests[i].kind === 'frame' && manifests[i].output.explanation);
    if (!explainable.length) {
      throw new InvalidOptionError(
        '--explain: none of the models has an explanation output (Grad-CAM or attention); re-export them with python -m unmask_train export',
      );
    }
    const models = await Ensemble.load(explainable, { intraOpNumThreads: opt.threads });
    const first = manifests[0];
    // The crops the scanner cuts (see Scanner.create).
    const crop: CropOptions = {
      policy: first.crop.policy,
      margin: first.crop.margin ?? 0.3,
      size: first.crop.size ?? DEFAULT_CROP_OPTIONS.size,
    };
    const detector = await BlazeFaceDetector.load({ threads: opt.threads, ...opt.detector });
    return new FaceExplainer(opt, detector, models, crop, warnings);
  }

  /** The models that write maps. */
  get explainableModels(): readonly FrameClassifier[] {
    return this.models.members;
  }

  /** Writes the maps of every face crop of `path` under `<outDir>/<key>/<model name>/`. */
  async explain(path: string, key: string, outDir: string): Promise<ExplainOutput> {
    const a = await analyzeFaces(path, this.detector, {
      sampling: this.options.sampling,
      crop: this.crop,
      tracker: this.options.tracker,
    });
    const maps: Record<string, WrittenMap[]> = {};
    for (const model of this.explainableModels) {
      const { logits, maps: m } = a.crops.length ? await model.explain(a.crops) : { logits: new Float32Array(0), maps: [] };
      maps[model.manifest.name] = await writeExplanationMaps(join(outDir, key, model.manifest.name), a.crops, m, logits);
    }
    return { maps };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.detector.dispose(), this.models.dispose()]);
  }
}
