/**
 * `unmask scan --explain <dir>`: explanation maps of every face crop a scan scored, as PNGs. The
 * crops come from the scan itself (`Scanner.scan(path, { onCrops })`), so nothing is decoded twice.
 *
 * Each explainable frame model (a manifest with `output.explanation`: Grad-CAM or attention) writes
 * `<dir>/<input key>/<model name>/f<frame>_t<track>.png` (+ `maps.json`); other models (no such
 * output, clip models, or a margin other than the crops the scan hands out) are skipped with a
 * warning; if no model can explain, {@link FaceExplainer.create} fails early.
 */
import { join } from 'node:path';
import { Ensemble } from '../models/ensemble.js';
import type { FrameClassifier } from '../models/frame_classifier.js';
import { loadManifest } from '../models/manifest.js';
import { cropMarginOf, scanCropOptions } from './scanner.js';
import { resolveModels } from '../models/registry.js';
import { writeExplanationMaps, type WrittenMap } from '../render/explain_maps.js';
import type { FaceCrop } from '../types.js';
import { InvalidOptionError } from '../util/errors.js';

/** What {@link FaceExplainer.explain} wrote for one input. */
export interface ExplainOutput {
  /** Maps per explainable model name. */
  maps: Record<string, WrittenMap[]>;
}

export class FaceExplainer {
  private constructor(
    private readonly models: Ensemble,
    /** One line per model that cannot explain (reported once by the caller). */
    readonly warnings: string[],
  ) {}

  /**
   * Loads the explainable ones of `models` (manifest paths or shipped names, as given to the
   * Scanner; none = the default model).
   *
   * @throws InvalidOptionError if none of the models has an explanation output (and takes crops cut
   *   with the scan's margin).
   */
  static async create(models: string[], threads?: number): Promise<FaceExplainer> {
    const paths = await resolveModels(models);
    const manifests = await Promise.all(paths.map(async (p) => (await loadManifest(p)).manifest));
    // the scan hands out crops cut with its first model's margin (scanCropOptions); a model trained on
    // another margin would be explained on crops framed unlike its own
    const margin = scanCropOptions(manifests).margin;
    // one reason per model it cannot explain (null: it can), so the warnings and the loaded set agree
    const skipped = manifests.map((m) =>
      m.kind !== 'frame' || !m.output.explanation
        ? `--explain: model ${m.name} has no explanation output (${m.kind === 'frame' ? 're-export it with python -m unmask_train export' : 'clip models have none'}); no maps for it`
        : cropMarginOf(m) !== margin
          ? `--explain: model ${m.name} takes crops with margin ${cropMarginOf(m)}, the scan hands out ${margin} (its first model's); no maps for it`
          : null,
    );
    const warnings = skipped.filter((w): w is string => w !== null);
    const explainable = paths.filter((_, i) => skipped[i] === null);
    if (!explainable.length) {
      throw new InvalidOptionError(
        '--explain: none of the models has an explanation output (Grad-CAM or attention); re-export them with python -m unmask_train export',
      );
    }
    return new FaceExplainer(await Ensemble.load(explainable, { intraOpNumThreads: threads }), warnings);
  }

  /** The models that write maps. */
  get explainableModels(): readonly FrameClassifier[] {
    return this.models.members;
  }

  /** Writes the maps of a scan's face crops (from its `onCrops` hook) under `<outDir>/<key>/<model name>/`. */
  async explain(crops: readonly FaceCrop[], key: string, outDir: string): Promise<ExplainOutput> {
    const maps: Record<string, WrittenMap[]> = {};
    for (const model of this.explainableModels) {
      const { logits, maps: m } = crops.length ? await model.explain([...crops]) : { logits: new Float32Array(0), maps: [] };
      maps[model.manifest.name] = await writeExplanationMaps(join(outDir, key, model.manifest.name), [...crops], m, logits);
    }
    return { maps };
  }

  async dispose(): Promise<void> {
    await this.models.dispose();
  }
}
