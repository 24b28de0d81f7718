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

function face(probabilities: number[]): ScanFrameScore {
  return { modelProbabilities: probabilities } as unknown as ScanFrameScore;
}

describe('named ensembles', () => {
  it('scores the members of one ensemble manifest together, under its name, before the ensemble of all', () => {
    const models = [entry('a', [0.3, 0.7], 'ab'), entry('b', [0.4, 0.6], 'ab'), entry('peer', [0.5, 0.5])];
    const scorers = scorersFor(models);
    assert.deepEqual(scorers.map((s) => s.key), ['a', 'b', 'peer', 'ab', 'ensemble']);
    const f = face([0.8, 0.6, 0.1]);
    const ab = scorers[3];
    assert.ok(Math.abs(ab.frameLogit(f, 0) - (logit(0.8) + logit(0.6)) / 2) < 1e-12);
    assert.ok(Math.abs(ab.band.realBelow - 0.35) < 1e-12 && Math.abs(ab.band.fakeAbove - 0.65) < 1e-12, JSON.stringify(ab.band));
    const all = scorers[4];
    assert.ok(Math.abs(all.frameLogit(f, 0) - (logit(0.8) + logit(0.6) + logit(0.1)) / 3) < 1e-12);
  });

  it('alternate schedule: from the second frame with faces, one frame member per frame; clip members always', () => {
    const models = [entry('a', [0.3, 0.7], 'ab'), entry('b', [0.4, 0.6], 'ab'), { ...entry('clip', [0.5, 0.5]), kind: 'clip' as const }];
    const [, , , ab, all] = scorersFor(models);
    const f = face([0.8, 0.6, 0.1]);
    assert.ok(Math.abs(ab.frameLogit(f, 1) - logit(0.8)) < 1e-12);
    assert.ok(Math.abs(ab.frameLogit(f, 2) - logit(0.6)) < 1e-12);
    assert.ok(Math.abs(all.frameLogit(f, 2) - (logit(0.6) + logit(0.1)) / 2) < 1e-12);
    const [, , , abFull] = scorersFor(models, 'every-frame');
    assert.ok(Math.abs(abFull.frameLogit(f, 2) - (logit(0.8) + logit(0.6)) / 2) < 1e-12);
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
