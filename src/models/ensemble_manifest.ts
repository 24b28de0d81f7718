/**
 * Ensemble manifest (schema `unmask.ensemble/1`): one JSON file that stands for several frame models,
 * e.g. the K bags, k folds or seeds of one training recipe (written by `python -m unmask_train train
 * --bagging K --export DIR` or `python -m unmask_train ensemble`). Anywhere a model manifest path is
 * accepted by {@link Ensemble.load} (so `unmask scan --model x.ensemble.json`), it expands into its
 * members, which are then scored exactly like `--model a --model b ...`: the mean of the members'
 * calibrated logits (soft voting), each weighted when the manifest is a stacked one (below).
 *
 * ```json
 * { "schema": "unmask.ensemble/1", "name": "unmask-b0-bagged",
 *   "members": ["unmask-b0-bag0.manifest.json", "unmask-b0-bag1.manifest.json"],
 *   "combine": "mean-calibrated-logit" }
 * ```
 * `members` are model manifest paths relative to the ensemble file; nesting ensembles is not allowed.
 *
 * A stacked ensemble (written by `unmask eval --fit-stacking`) adds `weights` (one per member), a
 * `bias` and its own `decision` band: member i then speaks with `weights[i] * z_i + bias` instead of
 * its calibrated logit z_i, and the ensemble's logit is still the mean of what its members say. With
 * every member on every face that mean is `sum(weights[i] / n * z_i) + bias`, a logistic regression
 * on the members' calibrated logits. Without those fields every weight is 1 and the bias 0.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidManifestError } from '../util/errors.js';
import type { DecisionBand } from './manifest.js';

export const ENSEMBLE_SCHEMA = 'unmask.ensemble/1';

export const EnsembleManifestSchema = z.object({
  schema: z.literal(ENSEMBLE_SCHEMA),
  name: z.string().min(1),
  /** Member model manifests, relative to the ensemble file. */
  members: z.array(z.string().min(1)).min(1),
  /** How members are combined; the only one is what {@link Ensemble} does. */
  combine: z.literal('mean-calibrated-logit').default('mean-calibrated-logit'),
  /** Weight of each member's calibrated logit, in `members` order (default: 1 each). */
  weights: z.array(z.number()).optional(),
  /** Added to every member's weighted logit, so to the ensemble's logit (default 0). */
  bias: z.number().optional(),
  /** The ensemble's own decision band (default: the mean of its members' bands). */
  decision: z
    .object({ realBelow: z.number().min(0).max(1), fakeAbove: z.number().min(0).max(1) })
    .refine((d) => d.realBelow <= d.fakeAbove, 'decision.realBelow must be <= decision.fakeAbove')
    .optional(),
  notes: z.string().optional(),
  createdAt: z.string().optional(),
}).refine((e) => !e.weights || e.weights.length === e.members.length, { message: 'weights must have one entry per member', path: ['weights'] });
export type EnsembleManifest = z.infer<typeof EnsembleManifestSchema>;

/** True for parsed JSON that declares itself an ensemble manifest (whether or not it is valid). */
export function isEnsembleManifestJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && (json as { schema?: unknown }).schema === ENSEMBLE_SCHEMA;
}

/**
 * Name and member manifest paths (absolute) of the ensemble manifest at `path`.
 *
 * @throws InvalidManifestError if the file is not a valid ensemble manifest or a member is itself one.
 */
export async function readEnsemble(path: string): Promise<ReadEnsemble> {
  const abs = resolve(path);
  const json = await readJson(abs);
  const r = EnsembleManifestSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new InvalidManifestError(`${path}: ${first?.path.join('.') || '(root)'}: ${first?.message}`);
  }
  const members = r.data.members.map((m) => resolve(dirname(abs), m));
  for (const m of members) {
    if (isEnsembleManifestJson(await readJson(m).catch(() => null))) {
      throw new InvalidManifestError(`${path}: member ${m} is itself an ensemble manifest (nesting is not supported)`);
    }
  }
  const { weights, bias = 0, decision } = r.data;
  return { name: r.data.name, members, weighting: members.map((_, i) => ({ weight: weights?.[i] ?? 1, bias })), ...(decision ? { band: decision } : {}) };
}

/** How one member's calibrated logit z enters its ensemble's mean: `weight * z + bias`. */
export interface MemberWeighting {
  weight: number;
  bias: number;
}

/** The weighting of a model outside a stacked ensemble: its calibrated logit as it is. */
export const UNWEIGHTED: MemberWeighting = Object.freeze({ weight: 1, bias: 0 });

/** An ensemble manifest, read: member manifest paths (absolute) and how each member counts. */
export interface ReadEnsemble {
  name: string;
  members: string[];
  /** Per member, in order. */
  weighting: MemberWeighting[];
  /** The ensemble's own decision band, when its manifest has one. */
  band?: DecisionBand;
}

/** Member manifest paths (absolute) of the ensemble manifest at `path` (see {@link readEnsemble}). */
export async function readEnsembleMembers(path: string): Promise<string[]> {
  return (await readEnsemble(path)).members;
}

/** A model manifest path, and the ensemble manifest it was listed by, if any. */
export interface ExpandedModel {
  path: string;
  /** Name of the ensemble manifest that listed it. */
  ensemble?: string;
  /** How it counts in the ensemble's mean ({@link UNWEIGHTED} outside a stacked ensemble). */
  weighting: MemberWeighting;
  /** The decision band of its ensemble, when that manifest has its own. */
  ensembleBand?: DecisionBand;
}

/**
 * Replaces every ensemble manifest in `paths` by its members, in place and in order, each member
 * remembering its ensemble's name; other paths (model manifests, unreadable files: their loader
 * reports those) pass through unchanged.
 */
export async function expandEnsembleManifestsNamed(paths: readonly string[]): Promise<ExpandedModel[]> {
  const out: ExpandedModel[] = [];
  for (const p of paths) {
    const json = await readJson(resolve(p)).catch(() => null);
    if (isEnsembleManifestJson(json)) {
      const { name, members, weighting, band } = await readEnsemble(p);
      out.push(...members.map((path, i) => ({ path, ensemble: name, weighting: weighting[i], ...(band ? { ensembleBand: band } : {}) })));
    } else out.push({ path: p, weighting: UNWEIGHTED });
  }
  return out;
}

/** {@link expandEnsembleManifestsNamed} without the names. */
export async function expandEnsembleManifests(paths: readonly string[]): Promise<string[]> {
  return (await expandEnsembleManifestsNamed(paths)).map((m) => m.path);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InvalidManifestError(`cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidManifestError(`${path} is not valid JSON`);
  }
}
