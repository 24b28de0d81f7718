/**
 * An ensemble of frame classifiers that scores a crop by the mean of its members' calibrated logits
 * (each weighted, for a stacked ensemble manifest: see ensemble_manifest.ts).
 */
import { meanBand } from '../aggregate/verdict.js';
import type { FaceCrop } from '../types.js';
import { InvalidOptionError } from '../util/errors.js';
import { FrameClassifier, type FrameClassifierOptions } from './frame_classifier.js';
import { expandEnsembleManifestsNamed, type ExpandedModel, type MemberWeighting, UNWEIGHTED } from './ensemble_manifest.js';
import { combineMembers } from './member_combine.js';
import type { DecisionBand } from './manifest.js';
import type { FaceScorer } from './scorer.js';

/**
 * Several {@link FrameClassifier}s used as one scorer.
 *
 * Calibrated logits are averaged: each member's raw logit is first divided by that member's own
 * temperature (so every member speaks on the same, calibrated scale), then the per-crop mean is
 * taken. Averaging calibrated logits (rather than raw logits or probabilities) keeps a member with
 * an overconfident raw scale from dominating, and a confident member still counts more than a
 * hesitant one.
 */
export class Ensemble implements FaceScorer {
  /** Members in the order given. Owned by the ensemble: {@link dispose} disposes them. */
  readonly members: readonly FrameClassifier[];
  /** How each member counts in the mean (a stacked ensemble manifest's weights; else unweighted). */
  readonly weighting: readonly MemberWeighting[];
  /** Per member: the band of the stacked ensemble manifest it came from, which replaces its own. */
  private readonly bandOverrides: readonly (DecisionBand | undefined)[];

  constructor(members: readonly FrameClassifier[], weighting?: readonly MemberWeighting[], bandOverrides?: readonly (DecisionBand | undefined)[]) {
    if (members.length === 0) throw new InvalidOptionError('an ensemble needs at least one model');
    if ((weighting && weighting.length !== members.length) || (bandOverrides && bandOverrides.length !== members.length)) {
      throw new InvalidOptionError('an ensemble needs one weighting and one band per member');
    }
    this.members = [...members];
    this.weighting = weighting ? [...weighting] : members.map(() => UNWEIGHTED);
    this.bandOverrides = bandOverrides ? [...bandOverrides] : members.map(() => undefined);
  }

  /**
   * Loads every manifest with the same options; an ensemble manifest (`unmask.ensemble/1`, see
   * ensemble_manifest.ts) counts as its members, with its weights and band. If one fails, the
   * members already loaded are disposed and the error is rethrown.
   */
  static async load(manifestPaths: readonly string[], options: FrameClassifierOptions = {}): Promise<Ensemble> {
    if (manifestPaths.length === 0) throw new InvalidOptionError('an ensemble needs at least one model');
    return Ensemble.loadExpanded(await expandEnsembleManifestsNamed(manifestPaths), options);
  }

  /** {@link load} for model manifests already expanded from their ensemble manifests. */
  static async loadExpanded(expanded: readonly ExpandedModel[], options: FrameClassifierOptions = {}): Promise<Ensemble> {
    if (expanded.length === 0) throw new InvalidOptionError('an ensemble needs at least one model');
    const loaded: FrameClassifier[] = [];
    try {
      // Sequentially: each session spins up its own thread pool.
      for (const m of expanded) loaded.push(await FrameClassifier.load(m.path, options));
    } catch (err) {
      await Promise.all(loaded.map((m) => m.dispose()));
      throw err;
    }
    return new Ensemble(loaded, expanded.map((m) => m.weighting), expanded.map((m) => m.ensembleBand));
  }

  /**
   * Decision band of the ensemble: the component-wise mean of the members' bands (mean of the
   * `realBelow`s, mean of the `fakeAbove`s), a member of a stacked ensemble manifest counting with
   * that manifest's band. Since each band has `realBelow <= fakeAbove`, so does the mean. Every band
   * is on the calibrated-probability scale that the averaged calibrated logits also live on.
   */
  get band(): DecisionBand {
    return meanBand(this.members.map((m, i) => this.bandOverrides[i] ?? m.band));
  }

  /**
   * Per-crop mean of the members' (weighted) calibrated logits (`raw / temperature`), in input
   * order. Members run one after another.
   */
  async predict(crops: FaceCrop[]): Promise<Float32Array> {
    return Float32Array.from(combineMembers(await this.predictMembers(crops), crops.map((c) => c.trackId), this.weighting));
  }

  /** Calibrated logits of each member (outer index = member, in `members` order), one after another. */
  async predictMembers(crops: FaceCrop[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const member of this.members) out.push(await member.predictCalibrated(crops));
    return out;
  }

  /** Same as {@link predict}: an ensemble's output is already calibrated. */
  predictCalibrated(crops: FaceCrop[]): Promise<Float32Array> {
    return this.predict(crops);
  }

  /** Disposes every member. */
  async dispose(): Promise<void> {
    await Promise.all(this.members.map((m) => m.dispose()));
  }
}
