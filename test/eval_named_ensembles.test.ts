/**
 * Named ensembles in `unmask eval`: an ensemble manifest given beside other models (the default
 * ensemble against a peer) is scored as one scorer under its own name, besides its members and
 * the ensemble of everything.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveRunModels } from '../src/eval/eval_runner.js';
import type { ModelEntry } from '../src/eval/eval_results.js';
import { scorersFor } from '../src/eval/evaluate.js';
import type { ScanFrameScore } from '../src/pipeline/scan_result.js';
import { tempDir, writeModel } from './helpers/model_fixtures.js';

const logit = (p: number) => Math.log(p / (1 - p));

function entry(key: string, band: [number, number], ensemble?: string): ModelEntry {
  return { key, name: key, version: '1', manifest: `/m/${key}.manifest.json`, band: { realBelow: band[0], fakeAbove: band[1] }, ...(ensemble ? { ensemble } : {}) };
}

function face(probabilities: number[], frameIndex = 0, trackId = 0): ScanFrameScore {
  return { frameIndex, trackId, modelProbabilities: probabilities } as unknown as ScanFrameScore;
}

describe('named ensembles', () => {
  it('scores the members of one ensemble manifest together, under its name, before the ensemble of all', () => {
    const models = [entry('a', [0.3, 0.7], 'ab'), entry('b', [0.4, 0.6], 'ab'), entry('peer', [0.5, 0.5])];
    const scorers = scorersFor(models);
    assert.deepEqual(scorers.map((s) => s.key), ['a', 'b', 'peer', 'ab', 'ensemble']);
    const f = face([0.8, 0.6, 0.1]);
    const ab = scorers[3];
    assert.ok(Math.abs(ab.inputLogits([f])[0] - (logit(0.8) + logit(0.6)) / 2) < 1e-12);
    assert.ok(Math.abs(ab.band.realBelow - 0.35) < 1e-12 && Math.abs(ab.band.fakeAbove - 0.65) < 1e-12, JSON.stringify(ab.band));
    const all = scorers[4];
    assert.ok(Math.abs(all.inputLogits([f])[0] - (logit(0.8) + logit(0.6) + logit(0.1)) / 3) < 1e-12);
  });

  it('alternate schedule: frame members take turns, clip members always count, an unscored member counts with its track mean', () => {
    const models = [entry('a', [0.3, 0.7], 'ab'), entry('b', [0.4, 0.6], 'ab'), { ...entry('clip', [0.5, 0.5]), kind: 'clip' as const }];
    const [, , , ab, all] = scorersFor(models);
    const L = logit;
    // frames 0-2 of track 0 (frame 0: every member; frame 1: a; frame 2: b), frame 3 of track 1 (a)
    const frames = [face([0.8, 0.6, 0.1], 0, 0), face([0.7, 0.3, 0.2], 1, 0), face([0.4, 0.9, 0.5], 2, 0), face([0.2, 0.5, 0.5], 3, 1)];
    const meanA0 = (L(0.8) + L(0.7)) / 2, meanB0 = (L(0.6) + L(0.9)) / 2; // track 0
    const expectAb = [(L(0.8) + L(0.6)) / 2, (L(0.7) + meanB0) / 2, (meanA0 + L(0.9)) / 2, (L(0.2) + meanB0) / 2]; // b never scored track 1: its mean over the input
    ab.inputLogits(frames).forEach((v, i) => assert.ok(Math.abs(v - expectAb[i]) < 1e-12, `ab face ${i}: ${v} vs ${expectAb[i]}`));
    const expectAll = [(L(0.8) + L(0.6) + L(0.1)) / 3, (L(0.7) + meanB0 + L(0.2)) / 3, (meanA0 + L(0.9) + L(0.5)) / 3];
    all.inputLogits(frames.slice(0, 3)).forEach((v, i) => assert.ok(Math.abs(v - expectAll[i]) < 1e-12, `all face ${i}`));
    // the track's mean logit is the mean of its members' track means, whatever their share of frames
    const track0 = ab.inputLogits(frames).slice(0, 3);
    assert.ok(Math.abs(track0.reduce((s, v) => s + v, 0) / 3 - (meanA0 + meanB0) / 2) < 1e-12);
    const [, , , abFull] = scorersFor(models, 'every-frame');
    assert.ok(Math.abs(abFull.inputLogits(frames)[2] - (L(0.4) + L(0.9)) / 2) < 1e-12);
  });

  it('adds nothing when the ensemble is the whole run, and keeps keys unique', () => {
    assert.deepEqual(scorersFor([entry('a', [0.5, 0.5], 'ab'), entry('b', [0.5, 0.5], 'ab')]).map((s) => s.key), ['a', 'b', 'ensemble']);
    // an ensemble named like a member, or like 'ensemble', gets a suffix
    const clash = [entry('a', [0.5, 0.5], 'a'), entry('b', [0.5, 0.5], 'a'), entry('c', [0.5, 0.5], 'ensemble'), entry('d', [0.5, 0.5], 'ensemble'), entry('e', [0.5, 0.5])];
    assert.deepEqual(scorersFor(clash).map((s) => s.key), ['a', 'b', 'c', 'd', 'e', 'a#2', 'ensemble#2', 'ensemble']);
  });

  it('resolveRunModels records the ensemble manifest that listed each member', async () => {
    const dir = await tempDir();
    await writeModel(dir, 'a');
    await writeModel(dir, 'b');
    const peer = await writeModel(dir, 'peer');
    const ens = join(dir, 'ab.ensemble.json');
    await writeFile(ens, JSON.stringify({ schema: 'unmask.ensemble/1', name: 'ab-default', members: ['a.manifest.json', 'b.manifest.json'] }));
    const models = await resolveRunModels([ens, peer]);
    assert.deepEqual(models.map((m) => [m.entry.key, m.entry.ensemble]), [['a', 'ab-default'], ['b', 'ab-default'], ['peer', undefined]]);
    assert.deepEqual(scorersFor(models.map((m) => m.entry)).map((s) => s.key), ['a', 'b', 'peer', 'ab-default', 'ensemble']);
  });
});
