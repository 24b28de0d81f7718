import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapCi, mergeClusters, seededRandom } from '../src/eval/bootstrap.js';
import { clusterKey, metricRecord, type EvalRow } from '../src/eval/evaluate.js';
import { pairedAucDifference } from '../src/eval/paired.js';
import {
  accuracy,
  averagePrecision,
  balancedAccuracy,
  confusion,
  downsampleCurve,
  ece,
  eer,
  logLoss,
  prCurve,
  reliability,
  rocAuc,
  rocCurve,
  scoreHistogram,
  type BinaryLabel,
} from '../src/eval/metrics.js';
import { stratifiedSubset } from '../src/eval/select_rows.js';
import { InvalidOptionError } from '../src/util/errors.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('rocAuc: perfect, inverted and hand-computed cases', () => {
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(rocAuc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
  // pairs (pos, neg): (0.35>0.1)(0.35<0.4)(0.8>0.1)(0.8>0.4) -> 3/4
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
});

test('rocAuc: ties count half', () => {
  assert.equal(rocAuc([0, 1], [0.5, 0.5]), 0.5);
  // pos 0.5 vs negs 0.5 (tie: 0.5) and 0.2 (win: 1) -> 0.75
  assert.equal(rocAuc([1, 0, 0], [0.5, 0.5, 0.2]), 0.75);
  // every score equal: no information, 0.5
  assert.equal(rocAuc([1, 1, 0, 0, 0], [0.3, 0.3, 0.3, 0.3, 0.3]), 0.5);
});

test('rocAuc: a single class is a clear error, not NaN', () => {
  assert.throws(() => rocAuc([1, 1], [0.2, 0.3]), InvalidOptionError);
  assert.throws(() => rocAuc([0, 1], [0.2]), InvalidOptionError);
});

test('logLoss: hand-computed and clipped', () => {
  assert.ok(Math.abs(logLoss([1, 0], [0.5, 0.5]) - Math.log(2)) < 1e-12);
  assert.ok(Math.abs(logLoss([1, 0], [0.9, 0.2]) - -(Math.log(0.9) + Math.log(0.8)) / 2) < 1e-12);
  assert.ok(Number.isFinite(logLoss([1], [0])), 'p=0 for a fake is clipped, not infinite');
  close(logLoss([1], [0]), -Math.log(1e-15));
});

test('confusion, accuracy and balanced accuracy at a threshold (>= is FAKE)', () => {
  const c = confusion([1, 1, 0, 0, 1], [0.9, 0.4, 0.5, 0.1, 0.5], 0.5);
  assert.deepEqual(c, { tp: 2, fp: 1, tn: 1, fn: 1 });
  close(accuracy(c), 3 / 5);
  close(balancedAccuracy(c), (2 / 3 + 1 / 2) / 2);
  // one class: balanced accuracy is that class's recall
  const fakes = confusion([1, 1, 1, 1], [0.9, 0.8, 0.2, 0.6], 0.5);
  close(balancedAccuracy(fakes), 3 / 4);
  assert.deepEqual(confusion([1, 0], [0.7, 0.7], 0.7), { tp: 1, fp: 1, tn: 0, fn: 0 });
});

test('rocCurve: one point per distinct score, ties merged', () => {
  const r = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  assert.deepEqual(r.fpr, [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual(r.tpr, [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(r.thresholds, [Infinity, 0.8, 0.4, 0.35, 0.1]);
  const tied = rocCurve([1, 0, 0], [0.5, 0.5, 0.2]);
  assert.deepEqual(tied.fpr, [0, 0.5, 1]);
  assert.deepEqual(tied.tpr, [0, 1, 1]);
});

test('eer: hand-computed, interpolated between ROC points', () => {
  // ROC (fpr, fnr): (0,1) (0,.5) (.5,.5) ... -> they meet at .5
  close(eer([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.5);
  assert.equal(eer([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 0);
  assert.equal(eer([0, 1], [0.9, 0.1]), 1);
  // fakes .9 .7 .5, real .8: between (fpr 0, fnr 2/3) and (fpr 1, fnr 2/3) the rates cross at 2/3
  close(eer([1, 0, 1, 1], [0.9, 0.8, 0.7, 0.5]), 2 / 3);
  assert.throws(() => eer([0, 0], [0.1, 0.2]), InvalidOptionError);
});

test('averagePrecision: step-wise sum of (R_k - R_k-1) P_k, as scikit-learn', () => {
  // thresholds .8 (R .5, P 1), .4 (R .5, P .5), .35 (R 1, P 2/3), .1 (R 1, P .5) -> .5 + .5 * 2/3
  close(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.5 + 0.5 * (2 / 3));
  assert.equal(averagePrecision([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  // a tie is one threshold: R 1 at P .5
  assert.equal(averagePrecision([1, 0], [0.5, 0.5]), 0.5);
  assert.throws(() => averagePrecision([0, 0], [0.1, 0.2]), InvalidOptionError);
  const pr = prCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
  assert.deepEqual(pr.recall, [0.5, 0.5, 1, 1]);
  assert.deepEqual(pr.precision, [1, 0.5, 2 / 3, 0.5]);
});

test('ece and reliability: 10 equal-width bins, hand-computed', () => {
  const labels: BinaryLabel[] = [1, 0, 1, 0];
  const probs = [0.95, 0.05, 0.55, 0.55];
  // bins 9 (.95 vs 1), 0 (.05 vs 0), 5 (.55 vs .5): (.05 + .05 + 2 * .05) / 4
  close(ece(labels, probs), 0.05);
  const bins = reliability(labels, probs);
  assert.equal(bins.length, 10);
  assert.deepEqual(bins[5], { lo: 0.5, hi: 0.6, count: 2, meanProbability: 0.55, fractionFake: 0.5 });
  assert.deepEqual(bins[3], { lo: 0.3, hi: 0.4, count: 0, meanProbability: 0, fractionFake: 0 });
  assert.equal(reliability([1], [1])[9].count, 1, 'p = 1 falls in the last bin');
  assert.equal(ece([1, 1], [1, 1]), 0);
  assert.throws(() => ece([1], [1.5]), InvalidOptionError);
});

test('scoreHistogram: 20 bins per class', () => {
  const h = scoreHistogram([1, 0, 0, 1], [0, 0.04, 0.05, 1]);
  assert.equal(h.edges.length, 21);
  assert.equal(h.real[0], 1);
  assert.equal(h.real[1], 1);
  assert.equal(h.fake[0], 1);
  assert.equal(h.fake[19], 1);
});

test('downsampleCurve keeps first and last and at most max points', () => {
  const x = Array.from({ length: 1000 }, (_, i) => i);
  const d = downsampleCurve({ a: x, b: x.map((v) => v * 2) }, 200);
  assert.equal(d.a.length, 200);
  assert.equal(d.a[0], 0);
  assert.equal(d.a[199], 999);
  assert.equal(d.b[199], 1998);
  const small = { a: [1, 2] };
  assert.equal(downsampleCurve(small), small);
});

test('bootstrapCi: contains the estimate, same seed same interval, clusters resampled whole', () => {
  const rand = seededRandom(7);
  const clusters = Array.from({ length: 40 }, (_, i) => {
    const label: BinaryLabel = i % 2 === 0 ? 1 : 0;
    return { label, scores: Array.from({ length: 5 }, () => rand() * 0.6 + (label ? 0.3 : 0.1)) };
  });
  const labels = clusters.flatMap((c) => c.scores.map(() => c.label));
  const scores = clusters.flatMap((c) => [...c.scores]);
  const auc = rocAuc(labels, scores);
  const ci = bootstrapCi(clusters, rocAuc, { resamples: 500, seed: 3 });
  assert.ok(ci[0] <= auc && auc <= ci[1], `${auc} in ${ci}`);
  assert.ok(ci[0] < ci[1]);
  assert.deepEqual(bootstrapCi(clusters, rocAuc, { resamples: 500, seed: 3 }), ci);
  assert.notDeepEqual(bootstrapCi(clusters, rocAuc, { resamples: 500, seed: 4 }), ci);
  // each resample keeps the class sizes (stratified) and whole clusters
  const sizes = new Set<string>();
  bootstrapCi(clusters, (l, s) => {
    sizes.add(`${l.filter((x) => x === 1).length}/${s.length}`);
    return 0;
  }, { resamples: 50 });
  assert.deepEqual([...sizes], ['100/200']);
  // one cluster per class: the interval collapses to the single possible value
  assert.deepEqual(bootstrapCi([{ label: 1, scores: [0.9] }, { label: 0, scores: [0.1] }], rocAuc, { resamples: 20 }), [1, 1]);
  assert.throws(() => bootstrapCi([{ label: 1, scores: [0.9] }], rocAuc), InvalidOptionError);
});

test('pairedAucDifference: AUC(a) - AUC(b), a paired interval, antisymmetric, null with one class', () => {
  // a ranks all 3 fakes above both reals (AUC 1); b ranks one real above one fake (5 of 6 pairs)
  const samples = [
    { label: 1 as const, a: 0.9, b: 0.9 },
    { label: 1 as const, a: 0.8, b: 0.3 },
    { label: 1 as const, a: 0.7, b: 0.7 },
    { label: 0 as const, a: 0.2, b: 0.4 },
    { label: 0 as const, a: 0.1, b: 0.1 },
  ];
  const d = pairedAucDifference(samples, { resamples: 500, seed: 3 })!;
  close(d.difference, 1 - 5 / 6);
  assert.equal(d.n, 5);
  assert.ok(d.ci95 && d.ci95[0] >= 0 && d.ci95[0] <= d.difference && d.difference <= d.ci95[1]);
  const swapped = pairedAucDifference(samples.map((x) => ({ ...x, a: x.b, b: x.a })), { resamples: 500, seed: 3 })!;
  close(swapped.difference, -d.difference);
  close(swapped.ci95![0], -d.ci95![1]);
  // a scorer against itself: exactly 0 in every resample
  assert.deepEqual(pairedAucDifference(samples.map((x) => ({ ...x, b: x.a })), { resamples: 200 })!.ci95, [0, 0]);
  assert.equal(pairedAucDifference(samples, { resamples: 0 })!.ci95, null);
  assert.equal(pairedAucDifference(samples.filter((x) => x.label === 1)), null);
});

test('metricRecord: one class gives nulls and a note, never NaN; empty gives null', () => {
  const m = metricRecord([{ label: 1, scores: [0.9, 0.2] }, { label: 1, scores: [0.7] }], { threshold: 0.5, resamples: 100, seed: 1, unscored: 1 })!;
  assert.equal(m.auc, null);
  assert.equal(m.aucCi95, null);
  assert.equal(m.eer, null);
  assert.equal(m.averagePrecision, null);
  assert.equal(m.roc, null);
  assert.match(m.note!, /only FAKE samples.*need both classes/);
  assert.match(m.note!, /1 input\(s\) without a score/);
  assert.deepEqual(m.confusion, { tp: 2, fp: 0, tn: 0, fn: 1 });
  close(m.accuracy, 2 / 3);
  const numbers: number[] = [];
  JSON.stringify(m, (_, v) => (typeof v === 'number' && numbers.push(v), v));
  assert.ok(numbers.every(Number.isFinite), 'no NaN or Infinity anywhere');
  assert.equal(metricRecord([{ label: 0, scores: [] }], { threshold: 0.5, resamples: 10, seed: 1 }), null);
  const both = metricRecord([{ label: 1, scores: [0.9] }, { label: 0, scores: [0.2, 0.4] }], { threshold: 0.5, resamples: 100, seed: 1 })!;
  assert.equal(both.auc, 1);
  assert.equal(both.n, 3);
  // one FAKE video: every resample would draw it, so no interval rather than a point
  assert.equal(both.aucCi95, null);
  assert.match(both.note!, /no AUC interval/);
  const two = metricRecord(
    [{ label: 1, scores: [0.9] }, { label: 1, scores: [0.3] }, { label: 0, scores: [0.2] }, { label: 0, scores: [0.4] }],
    { threshold: 0.5, resamples: 100, seed: 1 },
  )!;
  assert.equal(two.auc, 0.75);
  assert.ok(two.aucCi95 && two.aucCi95[0] <= 0.75 && two.aucCi95[1] >= 0.75);
  assert.equal(two.note, undefined);
});

test('clusterKey / mergeClusters: group clustering joins one class of one group, input clustering nothing', () => {
  const row = (path: string, label: 'REAL' | 'FAKE', group?: string): EvalRow =>
    ({ path, label, dataset: 'd', split: 'test', method: '', compression: '', group });
  const rows = [row('a', 'FAKE', 'g1'), row('b', 'FAKE', 'g1'), row('c', 'REAL', 'g1'), row('d', 'FAKE', 'g2'), row('e', 'FAKE')];
  const merged = (by: 'input' | 'group') =>
    mergeClusters(rows.map((r, i) => ({ key: clusterKey(r, by), label: r.label === 'FAKE' ? (1 as const) : (0 as const), scores: [i] })));
  assert.deepEqual(merged('group'), [
    { label: 1, scores: [0, 1] },
    { label: 0, scores: [2] },
    { label: 1, scores: [3] },
    { label: 1, scores: [4] }, // no group: alone
  ]);
  assert.equal(merged('input').length, 5);
});

test('group clusters: ten stills per video give the interval of one score per video, not a narrower one', () => {
  const rand = seededRandom(7);
  const videos = Array.from({ length: 24 }, (_, i) => ({ label: (i % 3 === 0 ? 0 : 1) as BinaryLabel, score: rand() }));
  const perVideo = metricRecord(videos.map((v) => ({ label: v.label, scores: [v.score] })), { threshold: 0.5, resamples: 400, seed: 2 })!;
  const stills = videos.flatMap((v, i) => Array.from({ length: 10 }, () => ({ key: `v${i}`, label: v.label, scores: [v.score] })));
  const grouped = metricRecord(mergeClusters(stills), { threshold: 0.5, resamples: 400, seed: 2 })!;
  const alone = metricRecord(stills, { threshold: 0.5, resamples: 400, seed: 2 })!;
  close(grouped.auc!, perVideo.auc!);
  assert.deepEqual(grouped.aucCi95, perVideo.aucCi95);
  const width = (ci: [number, number] | null) => ci![1] - ci![0];
  assert.ok(width(alone.aucCi95) < 0.6 * width(grouped.aucCi95), `stills drawn one by one: ${alone.aucCi95} vs ${grouped.aucCi95}`);
  // the paired difference too: samples sharing a cluster are drawn together
  const pairs = videos.map((v, i) => ({ label: v.label, a: v.score, b: (v.score + (i % 5) / 10) % 1 }));
  const once = pairedAucDifference(pairs, { resamples: 400, seed: 2 })!;
  const copies = pairs.flatMap((p, i) => Array.from({ length: 10 }, () => ({ ...p, cluster: `v${i}` })));
  const together = pairedAucDifference(copies, { resamples: 400, seed: 2 })!;
  close(together.difference, once.difference);
  assert.deepEqual(together.ci95, once.ci95);
  const apart = pairedAucDifference(copies.map(({ cluster: _, ...p }) => p), { resamples: 400, seed: 2 })!;
  assert.ok(width(apart.ci95) < 0.6 * width(together.ci95));
});

test('stratifiedSubset: deterministic, keeps the label proportions and the row order', () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ id: i, label: i < 30 ? 'FAKE' : 'REAL' }));
  const a = stratifiedSubset(rows, 10, 5);
  assert.equal(a.length, 10);
  assert.equal(a.filter((r) => r.label === 'FAKE').length, 3);
  assert.deepEqual(stratifiedSubset(rows, 10, 5), a);
  assert.notDeepEqual(stratifiedSubset(rows, 10, 6), a);
  assert.deepEqual(a.map((r) => r.id), [...a.map((r) => r.id)].sort((x, y) => x - y));
  assert.equal(stratifiedSubset(rows, 7, 1).length, 7);
  assert.equal(stratifiedSubset(rows, 500, 1).length, 100);
});
