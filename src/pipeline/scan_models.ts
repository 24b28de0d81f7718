/**
 * The models of a scan, frame and clip kinds mixed, in the order the user gave them. Frame models form
 * an {@link Ensemble} that the scanner runs while frames are decoded; clip models need whole tracks, so
 * they score after tracking (src/pipeline/clip_scoring.ts). Every member yields one calibrated logit per
 * crop, so results, bands and ensembles treat both kinds alike.
 */
import { ClipClassifier } from '../models/clip_classifier.js';
import { meanBand } from '../aggregate/verdict.js';
import { Ensemble } from '../models/ensemble.js';
import { combineMembers } from '../models/member_combine.js';
import { type ExpandedModel, expandEnsembleManifestsNamed } from '../models/ensemble_manifest.js';
import { loadManifest, type DecisionBand, type ModelManifest } from '../models/manifest.js';
import { parseSampling, type SamplingPolicy } from '../media/sampling.js';
import type { FaceCrop } from '../types.js';
import { InvalidManifestError, InvalidOptionError } from '../util/errors.js';
import { scoreCropsByClips } from './clip_scoring.js';

export interface ScanModelsOptions {
  intraOpNumThreads?: number;
}

type Slot = { kind: 'frame' | 'clip'; index: number };

/**
 * A scan's models as their manifests describe them, before any session is opened: which members, in
 * which order, how they are weighted and banded, and which frames clip models ask for. Enough to plan
 * a scan, so a scanner can start decoding while the sessions open (Scanner.open).
 */
export class ScanModelsPlan {
  private constructor(
    /** Every member, ensemble manifests expanded, in the given order. */
    readonly expanded: readonly ExpandedModel[],
    /** Their manifests, in the same order. */
    readonly manifests: readonly ModelManifest[],
  ) {}

  /**
   * Reads and validates every manifest.
   * @throws InvalidOptionError for an empty list, InvalidManifestError for an unreadable or invalid manifest.
   */
  static async read(paths: readonly string[]): Promise<ScanModelsPlan> {
    if (paths.length === 0) throw new InvalidOptionError('a scan needs at least one model');
    // an ensemble manifest (unmask.ensemble/1) stands for its member manifests
    const expanded = await expandEnsembleManifestsNamed(paths);
    const manifests = await Promise.all(expanded.map(async (m) => (await loadManifest(m.path)).manifest));
    return new ScanModelsPlan(expanded, manifests);
  }

  /** Frame members, in ensemble order (the order of the given list). */
  get frameManifests(): ModelManifest[] {
    return this.manifests.filter((m) => m.kind === 'frame');
  }

  /** Clip members, in the order of the given list. */
  get clipManifests(): ModelManifest[] {
    return this.manifests.filter((m) => m.kind !== 'frame');
  }

  /** Mean of the members' bands, component-wise (as {@link Ensemble.band}); a stacked ensemble's band stands for its members'. */
  get band(): DecisionBand {
    return meanBand(this.manifests.map((m, i) => this.expanded[i].ensembleBand ?? m.decision));
  }

  /**
   * Per-crop ensemble logit from {@link ScanModels.combine}'s per-model logits and each crop's track id: their
   * (weighted) mean, a member that did not score a crop counting with its track mean (member_combine.ts).
   */
  ensembleLogits(perModel: readonly Float32Array[], trackIds: readonly number[]): Float64Array {
    return combineMembers(perModel, trackIds, this.expanded.map((m) => m.weighting));
  }

  /**
   * The frames the first clip model asks for (its manifest's `input.sampling`), else `clip:<2T, at least
   * 32>`; undefined without clip models.
   * @throws InvalidManifestError for a sampling string that is not a valid policy.
   */
  get preferredSampling(): SamplingPolicy | undefined {
    const m = this.clipManifests[0];
    if (!m) return undefined;
    const spec = m.input.sampling ?? `clip:${Math.max(32, 2 * (m.input.clipLength ?? 16))}`;
    try {
      return parseSampling(spec);
    } catch {
      throw new InvalidManifestError(`${m.name}: input.sampling '${spec}' is not a sampling policy`);
    }
  }

  /** A warning when clip models get frames that are not consecutive (they were trained on consecutive frames). */
  samplingWarning(framesDecoded: readonly number[]): string | undefined {
    if (!this.clipManifests.length || framesDecoded.every((f, i) => i === 0 || f === framesDecoded[i - 1] + 1)) return undefined;
    return 'clip models were given non-consecutive frames (use --sample clip:N or range:START:N); their scores are less reliable';
  }
}

/** A scan's models with their sessions open. */
export class ScanModels {
  private constructor(
    readonly plan: ScanModelsPlan,
    /** Frame members as one ensemble, or null when every model is a clip model. */
    readonly frames: Ensemble | null,
    readonly clips: readonly ClipClassifier[],
    private readonly order: readonly Slot[],
  ) {}

  /**
   * Reads every manifest and opens every model by its kind. If one fails, those already opened are disposed.
   * @throws the errors of ScanModelsPlan.read and {@link open}.
   */
  static async load(paths: readonly string[], options: ScanModelsOptions = {}): Promise<ScanModels> {
    return ScanModels.open(await ScanModelsPlan.read(paths), options);
  }

  /**
   * Opens the sessions of a plan's models. If one fails, those already opened are disposed.
   * @throws the errors of FrameClassifier/ClipClassifier.load.
   */
  static async open(plan: ScanModelsPlan, options: ScanModelsOptions = {}): Promise<ScanModels> {
    const kinds = plan.manifests.map((m) => m.kind);
    const frameModels = plan.expanded.filter((_, i) => kinds[i] === 'frame');
    const order: Slot[] = [];
    let f = 0;
    let c = 0;
    for (const k of kinds) order.push(k === 'frame' ? { kind: k, index: f++ } : { kind: k, index: c++ });
    const clips: ClipClassifier[] = [];
    let frames: Ensemble | null = null;
    try {
      if (frameModels.length) frames = await Ensemble.loadExpanded(frameModels, options);
      for (const [i, m] of plan.expanded.entries()) if (kinds[i] !== 'frame') clips.push(await ClipClassifier.load(m.path, options));
    } catch (err) {
      await Promise.all([frames?.dispose(), ...clips.map((m) => m.dispose())]);
      throw err;
    }
    return new ScanModels(plan, frames, clips, order);
  }

  /**
   * Calibrated logits per member, in the given order: the frame members' (already computed, in
   * ensemble order) and the clip members', scored now over the tracks of `crops`.
   */
  async combine(framePerModel: readonly Float32Array[], crops: readonly FaceCrop[], framesDecoded: readonly number[]): Promise<Float32Array[]> {
    const clipPerModel: Float32Array[] = [];
    for (const m of this.clips) clipPerModel.push(await scoreCropsByClips(m, crops, framesDecoded));
    return this.order.map((s) => (s.kind === 'frame' ? framePerModel[s.index] : clipPerModel[s.index]));
  }

  async dispose(): Promise<void> {
    await Promise.all([this.frames?.dispose(), ...this.clips.map((m) => m.dispose())]);
  }
}
