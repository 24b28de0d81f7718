/**
 * Member schedules of a frame-model ensemble: `alternate` (the scan's default) runs every member on
 * the first frame with faces and one member per frame after it; `every-frame` runs all of them on
 * every face. `unmask eval` scans every-frame and rebuilds the alternate ensemble from the members'
 * scores, so both must give the same face logits.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { logit, sigmoid } from '../src/aggregate/prob.js';
import type { ModelEntry } from '../src/eval/eval_results.js';
import { scoreInputs, scorersFor, type EvalInput } from '../src/eval/evaluate.js';
import { combineMembers } from '../src/models/member_combine.js';
import { frameOrdinals, membersForFrame } from '../src/models/member_schedule.js';
import { Scanner } from '../src/pipeline/scanner.js';
import type { ScanResult } from '../src/pipeline/scan_result.js';
import { InvalidOptionError } from '../src/util/errors.js';
import * as fx from './helpers/media_fixtures.js';
import { tempDir, writeModel } from './helpers/model_fixtures.js';

describe('membersForFrame and frameOrdinals', () => {
  it('alternate: all members on the first frame with faces, then one each in turn', () => {
    assert.deepEqual([0, 1, 2, 3, 4].map((k) => membersForFrame('alternate', k, 2)), [[0, 1], [0], [1], [0], [1]]);
    assert.deepEqual([0, 1, 2, 3].map((k) => membersForFrame('alternate', k, 3)), [[0, 1, 2], [0], [1], [2]]);
    assert.deepEqual(membersForFrame('alternate', 5, 1), [0]);
    assert.deepEqual(membersForFrame('every-frame', 7, 3), [0, 1, 2]);
    assert.throws(() => membersForFrame('alternate', -1, 2), RangeError);
  });

  it('ranks the distinct frames with faces', () => {
    assert.deepEqual(frameOrdinals([10, 10, 3, 40, 3, 25]), [1, 1, 0, 3, 0, 2]);
    assert.deepEqual(frameOrdinals([]), []);
  });

  it('combineMembers: an unscored member counts with its track mean, else its input mean, else not at all', () => {
    // crops 0-2 in track 7, crop 3 in track 9; member 0 scored crops 0, 1, 3; member 1 scored crops 0, 2
    const got = combineMembers([Float32Array.from([1, 3, NaN, 10]), Float32Array.from([5, NaN, 7, NaN])], [7, 7, 7, 9]);
    assert.deepEqual([...got], [3, (3 + 6) / 2, (2 + 7) / 2, (10 + 6) / 2]);
    // weights and bias per member: w * z + b, then the mean
    const w = combineMembers([Float32Array.from([1, 2]), Float32Array.from([3, NaN])], [0, 0], [{ weight: 2, bias: 1 }, { weight: -1, bias: 1 }]);
    assert.deepEqual([...w], [(3 + -2) / 2, (5 + -2) / 2]);
    // a member that scored none of the input's crops is left out; a crop no member scored stays NaN
    assert.deepEqual([...combineMembers([Float32Array.from([4]), Float32Array.from([NaN])], [0])], [4]);
    assert.ok(Number.isNaN(combineMembers([Float32Array.from([NaN, 1])], [0, 0])[0]));
  });
});

describe('scanning with a two-member ensemble', () => {
  const CROP = { policy: 'margin', margin: 0.3, size: 64 };
  let models: string[];
  let alternate: Scanner;
  let everyFrame: Scanner;
  before(async () => {
    const dir = await tempDir();
    // one tiny network, two normalisations and temperatures: the members disagree on every face
    models = [
      await writeModel(dir, 'member-a', (m) => {
        m.input.size = 8;
        m.crop = CROP;
      }),
      await writeModel(dir, 'member-b', (m) => {
        m.input = { ...m.input, size: 8, mean: [0, 0, 0], std: [1, 1, 1] };
        m.calibration.temperature = 3;
        m.crop = CROP;
      }),
    ];
    const sampling = { kind: 'uniform', count: 6 } as const;
    alternate = await Scanner.create({ models, sampling, threads: 1 });
    everyFrame = await Scanner.create({ models, sampling, threads: 1, memberSchedule: 'every-frame' });
  });
  after(async () => {
    await alternate?.dispose();
    await everyFrame?.dispose();
  });

  it('alternate is the default; each later frame is scored by one member in turn', async () => {
    assert.equal(alternate.options.memberSchedule, 'alternate');
    const clip = await fx.faceClip();
    const r = await alternate.scan(clip);
    assert.equal(r.status, 'ok', JSON.stringify(r.error));
    const ordinals = frameOrdinals(r.frames.map((f) => f.frameIndex));
    assert.ok(Math.max(...ordinals) >= 3, 'several frames with faces');
    r.frames.forEach((f, i) => {
      const scored = f.modelProbabilities.flatMap((p, m) => (p === null ? [] : [m]));
      assert.deepEqual(scored, membersForFrame('alternate', ordinals[i], 2), `face ${i} (frame ordinal ${ordinals[i]})`);
    });
    // each face's probability: the member that scored it, and the other's mean over the track (member_combine.ts)
    const perMember = [0, 1].map((m) => Float64Array.from(r.frames, (f) => (f.modelProbabilities[m] === null ? Number.NaN : logit(f.modelProbabilities[m]!))));
    const combined = combineMembers(perMember, r.frames.map((f) => f.trackId));
    r.frames.forEach((f, i) => assert.ok(Math.abs(f.probability - sigmoid(combined[i])) < 1e-6, `face ${i}`));

    // every-frame scores every face with both; eval's alternate ensemble rebuilt from it equals the scan
    const full = await everyFrame.scan(clip);
    assert.equal(full.frames.length, r.frames.length);
    for (const f of full.frames) assert.ok(f.modelProbabilities.every((p) => p !== null));
    const entries: ModelEntry[] = ['member-a', 'member-b'].map((name) => ({
      key: name, name, version: '1', manifest: name, band: { realBelow: 0.3, fakeAbove: 0.7 }, kind: 'frame',
    }));
    const input = (result: ScanResult): EvalInput[] => [{ row: { path: clip, label: 'REAL', dataset: 'x', split: 'test', method: '', compression: '' }, result }];
    const ensemble = scorersFor(entries, 'alternate').at(-1)!;
    const rebuilt = scoreInputs(input(full), ensemble)[0].frames.map((f) => f.logit);
    r.frames.forEach((f, i) => assert.ok(Math.abs(sigmoid(rebuilt[i]) - f.probability) < 1e-5, `face ${i}`));
    const allMembers = scoreInputs(input(full), scorersFor(entries, 'every-frame').at(-1)!)[0].frames;
    full.frames.forEach((f, i) => assert.ok(Math.abs(sigmoid(allMembers[i].logit) - f.probability) < 1e-5));
    // a member alone cannot be measured from an alternate scan
    assert.throws(() => scoreInputs(input(r), scorersFor(entries)[0]), InvalidOptionError);
  });

  it('an image gets every member', async () => {
    const r = await alternate.scan(fx.facePhoto(2));
    assert.equal(r.status, 'ok');
    for (const f of r.frames) assert.ok(f.modelProbabilities.every((p) => p !== null));
  });

  it('refuses an unknown schedule', async () => {
    await assert.rejects(Scanner.create({ models, memberSchedule: 'sometimes' as never }), InvalidOptionError);
  });
});
