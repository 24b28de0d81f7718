/** Writes a stacked ensemble manifest (unmask.ensemble/1 with weights) from a stacking fit. */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { meanBand } from '../aggregate/verdict.js';
import { ENSEMBLE_SCHEMA, EnsembleManifestSchema } from '../models/ensemble_manifest.js';
import type { DecisionBand } from '../models/manifest.js';
import { InvalidOptionError } from '../util/errors.js';
import { onnxReference } from './calibrated_manifest.js';
import type { StackingFit } from './stacking.js';

/** A band with float noise of the mean removed (0.35 rather than 0.3499999999999999). */
function roundBand(b: DecisionBand): DecisionBand {
  const r = (v: number) => Number(v.toPrecision(12));
  return { realBelow: r(b.realBelow), fakeAbove: r(b.fakeAbove) };
}

/** The ensemble's name for an output path: `x.ensemble.json` -> `x`. */
export function stackedEnsembleName(outPath: string): string {
  return basename(outPath).replace(/\.ensemble\.json$|\.json$/, '');
}

/**
 * Writes the ensemble manifest at `outPath`: the member manifests (referenced as calibrated copies
 * are: relative when they share a top-level folder), the fit's weights and bias, and the decision
 * band `band` (default: the mean of the members' bands). Returns the absolute path.
 *
 * @throws InvalidOptionError when `outPath` does not end in `.json`.
 */
export async function writeStackedManifest(outPath: string, memberManifests: readonly string[], memberBands: readonly DecisionBand[], fit: StackingFit, how: string): Promise<string> {
  if (!outPath.endsWith('.json')) throw new InvalidOptionError(`--fit-stacking: the ensemble manifest path must end in .json (e.g. x.ensemble.json), got ${outPath}`);
  const out = resolve(outPath);
  const doc = {
    schema: ENSEMBLE_SCHEMA,
    name: stackedEnsembleName(out),
    members: memberManifests.map((m) => onnxReference(dirname(out), m)),
    combine: 'mean-calibrated-logit' as const,
    weights: fit.weights,
    bias: fit.bias,
    decision: roundBand(meanBand(memberBands)),
    notes:
      `Stacked by unmask eval --fit-stacking: ${how}. P(fake) = sigmoid(${fit.coef.map((c, i) => `${c.toFixed(3)} * z(${fit.members[i]})`).join(' + ')} ` +
      `+ ${fit.intercept.toFixed(3)}) on the members' calibrated video logits; out of ${fit.folds} folds by identity: video AUC ` +
      `${fit.outOfFold.auc.toFixed(3)} / log loss ${fit.outOfFold.logLoss.toFixed(3)} against ${fit.equalMean.auc.toFixed(3)} / ` +
      `${fit.equalMean.logLoss.toFixed(3)} for the equal mean on the same ${fit.fittedOn} inputs.`,
    createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  EnsembleManifestSchema.parse(doc); // never write a manifest the loader would reject
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(doc, null, 2)}\n`);
  return out;
}
