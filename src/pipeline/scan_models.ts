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
import { expandEnsembleManifestsNamed, type MemberWeighting } from '../models/ensemble_manifest.js';
import { loadManifest, type DecisionBand, type ModelManifest } from '../models/manifest.js';
import { parseSampling, type SamplingPolicy } from '../media/sampling.js';
import type { FaceCrop } from '../types.js';
import { InvalidManifestError, InvalidOptionError } from '../util/errors.js';
import { scoreCropsByClips } from './clip_scoring.js';

export interface ScanModelsOptions {
  intraOpNumThreads?: number;
}

type Slot = { kind: 'frame' | 'clip'; index: number };

export class ScanModels {
  private constructor(
    /** Frame members as one ensemble, or null when every model is a clip model. */
    readonly frames: Ensemble | null,
    readonly clips: readonly ClipClassifier[],
    private readonly order: readonly Slot[],
    /** Per model, in the given order: how it counts in the mean, and its stacked ensemble's band. */
    private readonly weighting: readonly MemberWeighting[],
    private readonly bandOverrides: readonly (DecisionBand | undefined)[],
  ) {}

  /**
   * Loads every manifest by its kind. If one fails, those already loaded are disposed.
   * @throws InvalidOptionError for an empty list, plus the errors of FrameClassifier/ClipClassifier.load.
   */
  static async load(paths: readonly string[], options: ScanModelsOptions = {}): Promise<ScanModels> {
    if (paths.length === 0) throw new InvalidOptionError('a scan needs at least one model');
    // an ensemble manifest (unmask.ensemble/1) stands for its member manifests
    const expanded = await expandEnsembleManifestsNamed(paths);
    const manifestPaths = expanded.map((m) => m.path);
    const kinds = await Promise.all(manifestPaths.map(async (p) => (await loadManifest(p)).manifest.kind));
    const frameModels = expanded.filter((_, i) => kinds[i] === 'frame');
    const order: Slot[] = [];
    let f = 0;
    let c = 0;
    for (const k of kinds) order.push(k === 'frame' ? { kind: k, index: f++ } : { kind: k, index: c++ });
    const clips: ClipClassifier[] = [];
    let frames: Ensemble | null = null;
    try {
      if (frameModels.length) frames = await Ensemble.loadExpanded(frameModels, options);
      for (const [i, p] of manifestPaths.entries()) if (kinds[i] === 'clip') clips.push(await ClipClassifier.load(p, options));
    } catch (err) {
      await Promise.all([frames?.dispose(), ...clips.map((m) => m.dispose())]);
      throw err;
    }
    return new ScanModels(frames, clips, order, expanded.map((m) => m.weighting), expanded.map((m) => m.ensembleBand));
  }

  /** Manifests of every member, in the given order. */
  get manifests(): ModelManifest[] {
    return this.order.map((s) => (s.kind === 'frame' ? this.frames!.members[s.index].manifest : this.clips[s.index].manifest));
  }

  /** Mean of the members' bands, component-wise (as {@link Ensemble.band}). */
  get band(): DecisionBand {
    return meanBand(this.order.map((s, i) => this.bandOverrides[i] ?? (s.kind === 'frame' ? this.frames!.members[s.index].band : this.clips[s.index].band)));
  }

  /**
   * Per-crop ensemble logit from {@link combine}'s per-model logits and each crop's track id: their
   * (weighted) mean, a member that did not score a crop counting with its track mean (member_combine.ts).
   */
  ensembleLogits(perModel: readonly Float32Array[], trackIds: readonly number[]): Float64Array {
    return combineMembers(perModel, trackIds, this.weighting);
  }

  /**
   * The frames the first clip model asks for (its manifest's `input.sampling`), else `clip:<2T, at least
   * 32>`; undefined without clip models.
   * @throws InvalidManifestError for a sampling string that is not a valid policy.
   */
  get preferredSampling(): SamplingPolicy | undefined {
    const m = this.clips[0]?.manifest;
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
    if (!this.clips.length || framesDecoded.every((f, i) => i === 0 || f === framesDecoded[i - 1] + 1)) return undefined;
    return 'clip models were given non-consecutive frames (use --sample clip:N or range:START:N); their scores are less reliable';
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
