/**
 * `unmask eval` end to end through the CLI: a tiny index of clips rendered from the face-api photos,
 * two tiny ONNX models (so members and their ensemble are measured), the scan cache (a re-run scans
 * nothing; a torn cache resumes), calibration, and the one-line errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { readIndexCsv, writeIndexCsv, type IndexRow } from '../src/datasets/index_row.js';
import { readEvalResults, type EvalResults } from '../src/eval/eval_results.js';
import { loadManifest } from '../src/models/manifest.js';
import { readEnsemble } from '../src/models/ensemble_manifest.js';
import * as fx from './helpers/media_fixtures.js';
import { writeModel } from './helpers/model_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
function unmask(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

const work = tempDir('eval');
const index = join(work, 'index.csv');
let modelA: string, modelB: string;
let rows: IndexRow[];
/** Options shared by every run: few frames, so the suite stays quick. */
const common = () => ['--model', modelA, '--model', modelB, '--sample', 'uniform:3', '--bootstrap', '200', '--threads', '1'];

before(async () => {
  const dir = join(work, 'models');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  modelA = await writeModel(dir, 'tiny-a');
  // a second member that sees the crops differently (other normalisation), with its own band
  modelB = await writeModel(dir, 'tiny-b', (m) => {
    m.input.mean = [0.2, 0.2, 0.2];
    m.input.std = [0.3, 0.3, 0.3];
    m.calibration.temperature = 2;
    m.decision = { realBelow: 0.5, fakeAbove: 0.5 };
  });
  // 960 px wide: the photos' faces are 85-140 px there, above the detector's 60 px limit (at 480, 43-72 px)
  const clip = (photo: number) => fx.faceClip({ seconds: 1, width: 960, photo });
  const row = (path: string, label: 'REAL' | 'FAKE', method: string, compression: string, split: 'val' | 'test' = 'test'): IndexRow => ({
    path, label, dataset: 'demo', split, group: `g:${path}`, method, compression,
  });
  rows = [
    row(await clip(1), 'REAL', '', 'c23'),
    row(await clip(2), 'REAL', '', 'c40'),
    row(await clip(3), 'FAKE', 'Swap', 'c23'),
    row(await clip(4), 'FAKE', 'Reenact', 'c40'),
    row(await clip(5), 'FAKE', 'Swap', 'c40'),
    row(fx.noFaceClip(), 'REAL', '', 'c23'),
    row(join(work, 'missing.mp4'), 'FAKE', 'Swap', 'c23'),
    row(await clip(6), 'REAL', '', 'c23', 'val'),
    row(await clip(3), 'FAKE', 'Swap', 'c23', 'val'),
  ];
  // the val rows are the same files again under another split; a path listed twice is scanned once
  await writeIndexCsv(rows, index);
});

/** The last line of stderr: the error line (an `eval: N inputs...` line may come before it). */
const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

function run(out: string, ...extra: string[]) {
  return unmask('eval', index, '--out', out, ...common(), ...extra);
}

test('eval writes a valid results.json, videos.csv and a summary; a re-run scans nothing', async () => {
  const out = join(work, 'run1');
  const p = run(out, '--split', 'test');
  assert.equal(p.status, 0, p.stderr);
  const r = await readEvalResults(join(out, 'results.json')); // validates against the schema
  const testRows = rows.filter((x) => x.split === 'test');
  assert.equal(r.schema, 'unmask.eval/1');
  assert.deepEqual(r.models.map((m) => m.key), ['tiny-a', 'tiny-b']);
  assert.deepEqual(r.filter, { split: 'test' });
  assert.equal(r.timings.scanned, testRows.length);
  assert.equal(r.timings.cached, 0);

  // every scorer x (frame + each strategy at video level) x grouping
  const scorers = ['tiny-a', 'tiny-b', 'ensemble'];
  for (const model of scorers) {
    const mine = r.evaluations.filter((e) => e.model === model);
    assert.ok(mine.some((e) => e.level === 'frame' && e.groupBy === 'all'), `${model} frame`);
    for (const s of ['mean-logit', 'confident', 'identity']) assert.ok(mine.some((e) => e.level === 'video' && e.strategy === s && e.groupBy === 'all'), `${model} ${s}`);
    const groups = new Set(mine.filter((e) => e.level === 'video' && e.strategy === 'mean-logit').map((e) => `${e.groupBy}:${e.group}`));
    assert.deepEqual([...groups].sort(), ['all:', 'compression:c23', 'compression:c40', 'dataset:demo', 'method:demo/Reenact', 'method:demo/Swap']);
  }
  const all = r.evaluations.find((e) => e.model === 'tiny-a' && e.level === 'video' && e.strategy === 'mean-logit' && e.groupBy === 'all')!;
  // 5 clips with faces scored; the no-face clip and the missing file are left out and counted
  assert.equal(all.metrics.n, 5);
  assert.equal(all.metrics.unscored, 2);
  assert.equal(all.metrics.positives, 3);
  assert.ok(all.metrics.auc !== null && all.metrics.aucCi95 !== null);
  // method group: fakes of the method plus the data set's reals
  const reenact = r.evaluations.find((e) => e.model === 'tiny-a' && e.level === 'video' && e.strategy === 'mean-logit' && e.group === 'demo/Reenact')!;
  assert.equal(reenact.metrics.positives, 1);
  assert.equal(reenact.metrics.negatives, 2);
  const frame = r.evaluations.find((e) => e.model === 'tiny-a' && e.level === 'frame' && e.groupBy === 'all')!;
  assert.ok(frame.metrics.n > all.metrics.n, 'frame level counts faces');

  // every pair of scorers, later minus earlier, on the 5 inputs both scored; the difference is that of
  // the two AUCs above, and its paired interval holds it
  assert.deepEqual(r.comparisons?.map((c) => [c.model, c.baseline, c.n]), [['tiny-b', 'tiny-a', 5], ['ensemble', 'tiny-a', 5], ['ensemble', 'tiny-b', 5]]);
  const videoAuc = (model: string) => r.evaluations.find((e) => e.model === model && e.level === 'video' && e.strategy === 'mean-logit' && e.groupBy === 'all')!.metrics.auc!;
  for (const c of r.comparisons!) {
    assert.ok(Math.abs(c.aucDifference - (videoAuc(c.model) - videoAuc(c.baseline))) < 1e-12, `${c.model} - ${c.baseline}`);
    assert.ok(c.aucDifferenceCi95 && c.aucDifferenceCi95[0] <= c.aucDifference + 1e-12 && c.aucDifference <= c.aucDifferenceCi95[1] + 1e-12);
  }
  assert.match(p.stdout, /paired differences[^\n]*\n.*\n\s*tiny-b\s+tiny-a\s+5\s+[+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\]/);

  assert.equal(r.videos.length, testRows.length * scorers.length);
  const noFace = r.videos.find((v) => v.path === fx.noFaceClip() && v.model === 'tiny-a')!;
  assert.equal(noFace.verdict, 'NO_FACE');
  assert.equal(noFace.probability, null);
  assert.deepEqual(r.failures.map((f) => f.code), ['NOT_FOUND']);
  assert.equal(r.worst.filter((w) => w.model === 'ensemble').length, 5);
  for (const w of r.worst) assert.match(w.thumbnail ?? '', /^data:image\/jpeg;base64,/);

  const csv = parse(readFileSync(join(out, 'videos.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
  assert.equal(csv.length, testRows.length * scorers.length * 3);
  assert.deepEqual(Object.keys(csv[0]), ['path', 'label', 'dataset', 'method', 'compression', 'model', 'strategy', 'verdict', 'probability']);
  assert.match(p.stdout, /AUC \[95% CI\]/);
  assert.match(p.stdout, /tiny-a\s+video\s+mean-logit/);

  // same models, same options: everything comes from the cache
  const again = run(out, '--split', 'test');
  assert.equal(again.status, 0, again.stderr);
  const r2 = await readEvalResults(join(out, 'results.json'));
  assert.equal(r2.timings.scanned, 0);
  assert.equal(r2.timings.cached, testRows.length);
  assert.deepEqual(r2.evaluations, r.evaluations);
  assert.equal(r2.clusterBy, 'input');

  // --cluster-by group: same scans and point figures, the unit recorded and said; rows keep their group
  const grouped = run(out, '--split', 'test', '--cluster-by', 'group');
  assert.equal(grouped.status, 0, grouped.stderr);
  const r3 = await readEvalResults(join(out, 'results.json'));
  assert.equal(r3.clusterBy, 'group');
  assert.deepEqual(r3.evaluations.map((e) => e.metrics.auc), r.evaluations.map((e) => e.metrics.auc));
  assert.match(grouped.stdout, /AUC intervals: bootstrap over groups/);
  assert.equal(r3.videos.find((v) => v.path === testRows[0].path)?.group, testRows[0].group);
  const bad = run(out, '--split', 'test', '--cluster-by', 'video');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--cluster-by/);
});

test('an interrupted run (torn cache) resumes: only the unfinished inputs are scanned', async () => {
  const out = join(work, 'run2');
  assert.equal(run(out, '--split', 'test').status, 0);
  const first = await readEvalResults(join(out, 'results.json'));
  const cacheDir = join(out, 'cache');
  const file = join(cacheDir, readdirSync(cacheDir).find((f) => f.endsWith('.jsonl'))!);
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  // as if killed while writing the third line
  writeFileSync(file, `${lines[0]}\n${lines[1]}\n${lines[2].slice(0, 40)}`);
  const p = run(out, '--split', 'test');
  assert.equal(p.status, 0, p.stderr);
  const r = await readEvalResults(join(out, 'results.json'));
  assert.equal(r.timings.cached, 2);
  assert.equal(r.timings.scanned, lines.length - 2);
  assert.deepEqual(r.evaluations, first.evaluations, 'same numbers as the uninterrupted run');
  // the torn line is skipped and later lines start on a line of their own
  assert.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).filter((l) => { try { JSON.parse(l); return true; } catch { return false; } }).length, lines.length);
});

test('--fit-calibration writes calibrated manifests that load and point at the same ONNX file', async () => {
  const out = join(work, 'run1'); // reuses the first test's scan cache
  const p = run(out, '--split', 'test', '--fit-calibration', '--calibration-split', 'val');
  assert.equal(p.status, 0, p.stderr);
  const r: EvalResults = await readEvalResults(join(out, 'results.json'));
  assert.equal(r.calibration?.length, 2);
  for (const c of r.calibration!) {
    assert.equal(c.method, 'temperature');
    assert.ok(c.temperature! > 0);
    assert.ok(Number.isFinite(c.eceAfter) && Number.isFinite(c.logLossAfter));
    const loaded = await loadManifest(c.manifestOut);
    const original = await loadManifest(c.model === 'tiny-a' ? modelA : modelB);
    assert.equal(loaded.onnxPath, original.onnxPath);
    assert.equal(loaded.manifest.calibration.temperature, c.temperature);
    assert.ok(c.manifestOut.startsWith(join(out, 'calibrated')));
  }
  assert.match(p.stdout, /calibration/);

  const platt = run(join(work, 'run1'), '--split', 'test', '--calibrate', index, '--calibration-split', 'val', '--calibration', 'platt', '--calibration-level', 'frame');
  assert.equal(platt.status, 0, platt.stderr);
  const rp = await readEvalResults(join(work, 'run1', 'results.json'));
  assert.equal(rp.calibration?.length, 2);
  for (const c of rp.calibration!) {
    assert.equal(c.method, 'platt');
    assert.ok(c.a! > 0 && Number.isFinite(c.b!));
    const copy = await loadManifest(c.manifestOut);
    // the intercept moves the band: sigmoid(logit(p) - b)
    const band = (await loadManifest(c.model === 'tiny-a' ? modelA : modelB)).manifest.decision;
    const shifted = 1 / (1 + Math.exp(-(Math.log(band.fakeAbove / (1 - band.fakeAbove)) - c.b!)));
    assert.ok(Math.abs(copy.manifest.decision.fakeAbove - shifted) < 1e-9);
  }
});

test('--fit-stacking writes a stacked ensemble manifest that loads, with its out-of-fold figures', async () => {
  const out = join(work, 'run1'); // reuses the first test's scan cache
  const manifest = join(work, 'stacked', 'tiny-ab.ensemble.json');
  const p = run(out, '--split', 'test', '--calibrate', index, '--fit-stacking', manifest, '--stacking-folds', '2');
  assert.equal(p.status, 0, p.stderr);
  const r = await readEvalResults(join(out, 'results.json'));
  const s = r.stacking!;
  assert.deepEqual(s.members, ['tiny-a', 'tiny-b']);
  assert.equal(s.fittedOn, 7); // every input with a face, the val rows included
  assert.equal(s.folds, 2);
  assert.ok(s.coef.every(Number.isFinite) && Number.isFinite(s.intercept));
  assert.ok(s.outOfFold.auc >= 0 && s.outOfFold.auc <= 1 && s.outOfFold.logLoss > 0);
  assert.equal(s.manifestOut, manifest);
  const doc = await readEnsemble(manifest);
  assert.equal(doc.name, 'tiny-ab');
  assert.deepEqual(doc.members, [modelA, modelB]);
  assert.deepEqual(doc.weighting.map((w) => w.weight), s.coef.map((c) => 2 * c));
  assert.ok(doc.weighting.every((w) => w.bias === s.intercept));
  assert.match(p.stdout, /stacking \(fitted on 7 inputs/);
  // the manifest scans: eval takes it as a model
  const again = unmask('eval', index, '--out', out, '--model', manifest, '--sample', 'uniform:3', '--bootstrap', '0', '--threads', '1', '--split', 'test');
  assert.equal(again.status, 0, again.stderr);
  const ra = await readEvalResults(join(out, 'results.json'));
  assert.deepEqual(ra.models.map((m) => m.weight), doc.weighting.map((w) => w.weight));

  for (const [extra, re] of [
    [['--fit-stacking', join(work, 'x.txt')], /^unmask: --fit-stacking: the ensemble manifest path must end in \.json/],
    [['--fit-stacking', manifest, '--split', 'test', '--calibration-split', 'val'], /^unmask: --fit-stacking: fold \d's training part does not hold both classes/],
  ] as [string[], RegExp][]) {
    const bad = run(out, '--split', 'test', ...extra);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(lastLine(bad.stderr), re);
  }
  const single = unmask('eval', index, '--out', out, '--model', modelA, '--sample', 'uniform:3', '--split', 'test', '--fit-stacking', manifest);
  assert.equal(single.status, 2);
  assert.match(lastLine(single.stderr), /^unmask: --fit-stacking needs two or more models/);
});

test('one class only: outputs are written with null AUC and a note, then a one-line error (exit 2)', async () => {
  const onlyFake = join(work, 'fakes.csv');
  await writeIndexCsv(rows.filter((x) => x.label === 'FAKE' && x.split === 'test'), onlyFake);
  const out = join(work, 'run1'); // reuses the first test's scan cache
  const p = unmask('eval', onlyFake, '--out', out, ...common());
  assert.equal(p.status, 2);
  assert.match(lastLine(p.stderr), /^unmask: only FAKE inputs after filtering: AUC, EER and AP need both classes/);
  const r = await readEvalResults(join(out, 'results.json'));
  const all = r.evaluations.find((e) => e.groupBy === 'all' && e.level === 'video')!;
  assert.equal(all.metrics.auc, null);
  assert.equal(all.metrics.eer, null);
  assert.match(all.metrics.note ?? '', /need both classes/);
  assert.ok(Number.isFinite(all.metrics.logLoss) && Number.isFinite(all.metrics.accuracy));
  assert.match(p.stdout, /note: only FAKE samples/);
});

test('bad inputs: one-line errors with exit 2', async () => {
  const out = join(work, 'bad');
  const cases: [string[], RegExp][] = [
    [['eval', join(work, 'nope.csv'), '--out', out], /^unmask: cannot read .*nope\.csv/],
    [['eval', index, '--out', out, '--model', 'no-such-model'], /^unmask: unknown model "no-such-model"/],
    [['eval', index, '--out', out, '--split', 'train', ...common()], /^unmask: no rows in .* with split=train/],
    [['eval', index, '--out', out, '--strategy', 'vote'], /^unmask: --strategy must be one of/],
    [['eval', index, '--out', out, '--calibrate', index, '--fit-calibration'], /^unmask: choose one of --calibrate and --fit-calibration/],
  ];
  const broken = join(work, 'broken.csv');
  writeFileSync(broken, 'path,label,dataset,split,group,method\n/x.mp4,MAYBE,demo,test,g,\n');
  cases.push([['eval', broken, '--out', out], /^unmask: .*broken\.csv:2: label/]);
  for (const [args, re] of cases) {
    const p = unmask(...args);
    assert.equal(p.status, 2, `${args.join(' ')}: ${p.stderr}`);
    assert.match(p.stderr.trim(), re);
    assert.equal(p.stderr.trim().split('\n').length, 1, p.stderr);
  }
  assert.ok(!existsSync(join(out, 'results.json')));
  // the index read back has the rows written (sanity of the fixture)
  assert.equal((await readIndexCsv(index)).length, rows.length);
});

test('cache fingerprint: defaults spelled out or left out are one key; other sampling is another', async () => {
  const { cacheFingerprint, resolveRunModels } = await import('../src/eval/eval_runner.js');
  const models = await resolveRunModels([modelA]);
  const sampling = { kind: 'uniform', count: 3 } as const;
  const implicit = cacheFingerprint(models, { sampling, detector: {}, tracker: {} });
  assert.equal(cacheFingerprint(models, { sampling, detector: { minScore: 0.6, maxFaces: 4, rescale: 'auto', passes: 'fast' }, tracker: {} }), implicit);
  assert.notEqual(cacheFingerprint(models, { sampling: { kind: 'uniform', count: 4 }, detector: {}, tracker: {} }), implicit);
  assert.notEqual(cacheFingerprint(await resolveRunModels([modelA, modelB]), { sampling, detector: {}, tracker: {} }), implicit);
});

test('two ensembles sharing members: each network is scanned once, its scores fill every slot it has', async () => {
  const { distinctManifests } = await import('../src/eval/eval_runner.js');
  assert.deepEqual(distinctManifests([{ manifestPath: 'a' }, { manifestPath: 'b' }, { manifestPath: 'a' }, { manifestPath: 'c' }, { manifestPath: 'b' }]), {
    paths: ['a', 'b', 'c'],
    slots: [0, 1, 0, 2, 1],
  });
  const dir = join(work, 'shared-members');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const equal = join(dir, 'ab-equal.ensemble.json');
  const weighted = join(dir, 'ab-weighted.ensemble.json');
  writeFileSync(equal, JSON.stringify({ schema: 'unmask.ensemble/1', name: 'ab-equal', members: [modelA, modelB] }));
  writeFileSync(weighted, JSON.stringify({ schema: 'unmask.ensemble/1', name: 'ab-weighted', members: [modelA, modelB], weights: [1.5, 0.5], bias: 0.2 }));
  const out = join(work, 'shared');
  const p = unmask('eval', index, '--out', out, '--model', equal, '--model', weighted, '--sample', 'uniform:3', '--bootstrap', '0', '--threads', '1', '--split', 'test');
  assert.equal(p.status, 0, p.stderr);
  const cacheDir = join(out, 'cache');
  const lines = readdirSync(cacheDir).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(join(cacheDir, f), 'utf8').split('\n').filter(Boolean));
  const results = lines.map((l) => JSON.parse(l).result);
  const frames = results.flatMap((r) => r.frames as { modelProbabilities: number[] }[]);
  assert.ok(frames.length > 0);
  assert.ok(results.every((r) => r.models.length === 4), 'a model per slot');
  for (const f of frames) assert.deepEqual(f.modelProbabilities.slice(2), f.modelProbabilities.slice(0, 2));
  // the same per-input scores as a run of the two networks alone (the first test's cache: nothing rescanned)
  const aloneOut = join(work, 'run1');
  const ap = unmask('eval', index, '--out', aloneOut, '--model', modelA, '--model', modelB, '--sample', 'uniform:3', '--bootstrap', '0', '--threads', '1', '--split', 'test');
  assert.equal(ap.status, 0, ap.stderr);
  const r = await readEvalResults(join(out, 'results.json'));
  assert.deepEqual(r.models.map((m) => m.weight), [undefined, undefined, 1.5, 0.5]);
  const ra = await readEvalResults(join(aloneOut, 'results.json'));
  const scores = (res: EvalResults, key: string) =>
    res.videos.filter((v) => v.model === key).map((v) => [v.path, v.probability] as const).sort((x, y) => x[0].localeCompare(y[0]));
  assert.ok(scores(ra, 'tiny-a').length > 0);
  for (const slot of [0, 2]) assert.deepEqual(scores(r, r.models[slot].key), scores(ra, 'tiny-a'));
  for (const slot of [1, 3]) assert.deepEqual(scores(r, r.models[slot].key), scores(ra, 'tiny-b'));
  // the equal ensemble of the shared networks scores as the ensemble of the two alone
  assert.deepEqual(scores(r, 'ab-equal'), scores(ra, 'ensemble'));
});
