/**
 * Stacking (`unmask eval --fit-stacking`): the logistic regression, the folds by identity, the fit
 * on scanned inputs, and that an ensemble weighted as the manifest is written reproduces the fit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../src/eval/bootstrap.js';
import type { ModelEntry } from '../src/eval/eval_results.js';
import { scoreInputs, scorersFor, videoProbability, type EvalInput } from '../src/eval/evaluate.js';
import type { BinaryLabel } from '../src/eval/metrics.js';
import { assignFolds, fitLogistic, fitStacking } from '../src/eval/stacking.js';
import { getStrategy } from '../src/aggregate/strategies.js';
import type { ScanResult } from '../src/pipeline/scan_result.js';
import { InvalidOptionError } from '../src/util/errors.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const logit = (p: number) => Math.log(p / (1 - p));

/** Standard normal draws (Box-Muller) from a seeded generator. */
function normals(seed: number): () => number {
  const rand = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function entry(key: string, extra: Partial<ModelEntry> = {}): ModelEntry {
  return { key, name: key, version: '1', manifest: `/m/${key}.manifest.json`, band: { realBelow: 0.35, fakeAbove: 0.65 }, ...extra };
}

/** A scanned input whose faces have these per-model probabilities (one face per frame). */
function input(path: string, label: 'REAL' | 'FAKE', group: string, faces: number[][]): EvalInput {
  const result = {
    status: 'ok',
    frames: faces.map((probs, i) => ({ frameIndex: i, timeMs: i * 40, trackId: 0, probability: 0.5, modelProbabilities: probs, box: { x: 0, y: 0, width: 1, height: 1 }, detectorScore: 1 })),
  } as unknown as ScanResult;
  return { row: { path, label, dataset: 'd', split: 'val', method: '', compression: '', group }, result };
}

describe('fitLogistic', () => {
  it('recovers the coefficients of data drawn from a logistic model', () => {
    const z = normals(3), rand = seededRandom(4);
    const x: number[][] = [], y: BinaryLabel[] = [];
    for (let i = 0; i < 6000; i++) {
      const r = [z(), z()];
      x.push(r);
      y.push(rand() < sigmoid(2 * r[0] - 1 * r[1] + 0.5) ? 1 : 0);
    }
    const f = fitLogistic(x, y);
    assert.ok(Math.abs(f.coef[0] - 2) < 0.2 && Math.abs(f.coef[1] + 1) < 0.15 && Math.abs(f.intercept - 0.5) < 0.12, JSON.stringify(f));
  });

  it('stays finite on separable classes and refuses one class or ragged rows', () => {
    const f = fitLogistic([[-2], [-1], [1], [2]], [0, 0, 1, 1]);
    assert.ok(f.coef[0] > 1 && Number.isFinite(f.coef[0]) && Math.abs(f.intercept) < 1e-6, JSON.stringify(f));
    assert.throws(() => fitLogistic([[1], [2]], [1, 1]), InvalidOptionError);
    assert.throws(() => fitLogistic([[1], [2, 3]], [0, 1]), InvalidOptionError);
  });
});

describe('assignFolds', () => {
  it('keeps each group in one fold and every class in every fold\'s training part', () => {
    const keys = ['a', 'a', 'b', 'c', 'c', 'd', 'e', 'f'];
    const labels: BinaryLabel[] = [0, 1, 0, 1, 1, 0, 1, 0];
    for (const k of [2, 3, 4]) {
      const folds = assignFolds(keys, labels, k);
      assert.deepEqual(folds, assignFolds(keys, labels, k), 'the same deal every time');
      for (const g of new Set(keys)) assert.equal(new Set(folds.filter((_, i) => keys[i] === g)).size, 1, `group ${g} split`);
      for (let f = 0; f < k; f++) {
        const rest = labels.filter((_, i) => folds[i] !== f);
        assert.ok(rest.includes(0) && rest.includes(1), `fold ${f} of ${k}: training part lacks a class`);
      }
    }
  });
});

describe('fitStacking', () => {
  // model a ranks the classes, model b is noise: the fit weighs a, not b
  const z = normals(7);
  const inputs: EvalInput[] = [];
  for (let i = 0; i < 400; i++) {
    const fake = i % 2 === 1;
    const faces = [0, 1, 2].map(() => [sigmoid((fake ? 0.8 : -0.8) + z()), sigmoid(z())]);
    inputs.push(input(`/v/${i}.mp4`, fake ? 'FAKE' : 'REAL', `g${Math.floor(i / 4)}`, faces));
  }
  const models = [entry('a'), entry('b')];

  it('weighs the informative member and reports out-of-fold figures beside the equal mean', () => {
    const fit = fitStacking(inputs, models, { strategy: 'mean-logit', folds: 5, resamples: 200 });
    assert.equal(fit.fittedOn, 400);
    assert.deepEqual(fit.members, ['a', 'b']);
    assert.ok(fit.coef[0] > 0.5 && Math.abs(fit.coef[1]) < 0.3, JSON.stringify(fit.coef));
    assert.deepEqual(fit.weights, fit.coef.map((c) => 2 * c));
    assert.equal(fit.bias, fit.intercept);
    assert.ok(fit.outOfFold.auc > 0.7 && fit.outOfFold.auc <= 1);
    assert.ok(fit.outOfFold.logLoss < fit.equalMean.logLoss, 'the noise member dilutes the equal mean');
    assert.ok(fit.difference !== null && fit.difference.ci95 !== null && fit.difference.n === 400);
  });

  it('with every member on every face, an ensemble weighted as the manifest says gives the fitted logit', () => {
    const fit = fitStacking(inputs, models, { strategy: 'mean-logit', folds: 5, resamples: 0 });
    const weighted = models.map((m, i) => ({ ...m, ensemble: 'ab', weight: fit.weights[i], bias: fit.bias }));
    const ensemble = scorersFor(weighted, 'every-frame').at(-1)!;
    const rule = getStrategy('mean-logit');
    const members = scorersFor(models).slice(0, 2);
    for (const inp of inputs.slice(0, 20)) {
      const x = members.map((s) => logit(videoProbability(scoreInputs([inp], s)[0], rule, s.band)!));
      const expected = fit.coef[0] * x[0] + fit.coef[1] * x[1] + fit.intercept;
      const got = logit(videoProbability(scoreInputs([inp], ensemble)[0], rule, ensemble.band)!);
      assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
    }
  });

  it('leaves out inputs without a face and refuses what it cannot fit', () => {
    const withEmpty = [...inputs.slice(0, 40), input('/v/none.mp4', 'FAKE', 'gx', [])];
    assert.equal(fitStacking(withEmpty, models, { strategy: 'mean-logit', resamples: 0 }).fittedOn, 40);
    assert.throws(() => fitStacking(inputs, [entry('a')], { strategy: 'mean-logit' }), /two or more models/);
    assert.throws(() => fitStacking(inputs, [entry('a'), entry('c', { kind: 'clip' })], { strategy: 'mean-logit' }), /frame models only/);
    assert.throws(() => fitStacking(inputs, models, { strategy: 'mean-logit', folds: 1 }), /folds must be an integer >= 2/);
    const oneClass = inputs.filter((i) => i.row.label === 'FAKE');
    assert.throws(() => fitStacking(oneClass, models, { strategy: 'mean-logit' }), /both classes/);
  });
});
