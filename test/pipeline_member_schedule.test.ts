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
import { FrameClassifier } from '../src/models/frame_classifier.js';
import { BlazeFaceDetector } from '../src/faces/blazeface.js';
import { analyzeFaces } from '../src/pipeline/face_analysis.js';
import { cropSideFor, Scanner } from '../src/pipeline/scanner.js';
import type { FaceCrop } from '../src/types.js';
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

describe('members of different input sides', () => {
  const CROP = { policy: 'margin', margin: 0.3, size: 256 } as const;
  const sampling = { kind: 'uniform', count: 6 } as const;
  const model = (dir: string, side: number) =>
    writeModel(dir, `side-${side}`, (m) => {
      m.input = { ...m.input, size: side, mean: [0, 0, 0], std: [1, 1, 1] };
      m.crop = CROP;
    });
  let side96: string, side128: string, side150: string;
  before(async () => {
    const dir = await tempDir();
    [side96, side128, side150] = await Promise.all([model(dir, 96), model(dir, 128), model(dir, 150)]);
  });

  it('which side a member is cut at: its own, or if small its training crops\' side', () => {
    const m = (size: number, cropSize?: number) => ({ input: { size }, crop: { policy: 'margin' as const, ...(cropSize ? { size: cropSize } : {}) } }) as never;
    assert.equal(cropSideFor(m(160, 256)), 160);
    assert.equal(cropSideFor(m(128, 256)), 128);
    assert.equal(cropSideFor(m(96, 256)), 256);
    assert.equal(cropSideFor(m(96, 200)), 200);
    assert.equal(cropSideFor(m(96)), 256);
    assert.equal(cropSideFor(m(64, 32)), 64);
  });

  it('each member scores crops cut at its own side: the same scores as when it scans alone', async () => {
    const clip = await fx.faceClip();
    const scanners = await Promise.all([
      Scanner.create({ models: [side128], sampling, threads: 1 }),
      Scanner.create({ models: [side150], sampling, threads: 1 }),
      Scanner.create({ models: [side128, side150], sampling, threads: 1 }),
      Scanner.create({ models: [side128, side150], sampling, threads: 1, memberSchedule: 'every-frame' }),
    ]);
    try {
      const results: ScanResult[] = [];
      for (const s of scanners) results.push(await s.scan(clip));
      for (const r of results) assert.equal(r.status, 'ok', JSON.stringify(r.error));
      const [r128, r150, rAlt, rEvery] = results;
      assert.ok(r128.frames.length >= 4);
      for (const r of [r150, rAlt, rEvery]) assert.deepEqual(r.frames.map((f) => f.frameIndex), r128.frames.map((f) => f.frameIndex));
      const alone = [r128, r150];
      let scoredAlternate = 0;
      r128.frames.forEach((_, i) => {
        for (const m of [0, 1]) {
          const want = alone[m].frames[i].modelProbabilities[0]!;
          // had the 128 px member read the 150 px crop resized, its scores would differ
          assert.ok(Math.abs(rEvery.frames[i].modelProbabilities[m]! - want) < 1e-6, `every-frame, face ${i}, member ${m}`);
          const p = rAlt.frames[i].modelProbabilities[m];
          if (p !== null) {
            assert.ok(Math.abs(p - want) < 1e-6, `alternate, face ${i}, member ${m}`);
            scoredAlternate++;
          }
        }
      });
      assert.ok(scoredAlternate > r128.frames.length, 'the first frame has both members, later ones one each');
    } finally {
      await Promise.all(scanners.map((s) => s.dispose()));
    }
  });

  it('a small member scores crops cut at its training crops\' side, resized; the crops handed out are cut at the largest input side', async () => {
    const clip = await fx.faceClip();
    const scanner = await Scanner.create({ models: [side96, side150], sampling, threads: 1 });
    const small = await FrameClassifier.load(side96, { intraOpNumThreads: 1 });
    const detector = await BlazeFaceDetector.load();
    try {
      let crops: readonly FaceCrop[] = [];
      const r = await scanner.scan(clip, { onCrops: (c) => (crops = c) });
      assert.equal(r.status, 'ok', JSON.stringify(r.error));
      assert.equal(crops.length, r.frames.length);
      for (const c of crops) assert.equal(c.size, 150);
      // the training crops' side, resized by the classifier
      const a = await analyzeFaces(clip, detector, { sampling, crop: { ...CROP } });
      assert.deepEqual(a.crops.map((c) => c.frameIndex), r.frames.map((f) => f.frameIndex));
      const want = await small.predictCalibrated(a.crops);
      let scored = 0;
      r.frames.forEach((f, i) => {
        const p = f.modelProbabilities[0];
        if (p === null) return;
        assert.ok(Math.abs(p - sigmoid(want[i])) < 1e-6, `face ${i}`);
        scored++;
      });
      assert.ok(scored >= 2);
    } finally {
      await Promise.all([scanner.dispose(), small.dispose(), detector.dispose()]);
    }
  });
});
