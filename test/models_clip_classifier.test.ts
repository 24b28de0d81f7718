/**
 * ClipClassifier on a real onnxruntime session: a hand-encoded NCTHW model whose logit is a
 * time-weighted mean of the normalised pixels (test/helpers/tiny_clip_onnx.ts), so frame order matters.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assembleClips, ClipClassifier } from '../src/models/clip_classifier.js';
import { cropsToTensor } from '../src/models/preprocess.js';
import { scoreCropsByClips } from '../src/pipeline/clip_scoring.js';
import { InvalidManifestError, InvalidOptionError, ModelLoadError } from '../src/util/errors.js';
import { makeCrop, tempDir, writeModel } from './helpers/model_fixtures.js';
import { expectedClipLogit, tinyClipOnnxModel } from './helpers/tiny_clip_onnx.js';

const T = 4;
const SIZE = 4;
const mean = [0.5, 0.4, 0.3];
const std = [0.25, 0.5, 0.2];
const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

/** Six different 4 px crops of track 0, frames 0..5. */
const crops = Array.from({ length: 6 }, (_, k) =>
  makeCrop(SIZE, (x, y) => [(40 * k + 13 * x) % 256, (7 * y + 50 * k) % 256, (x * y * 9 + k) % 256], k, 0),
);

const clipManifest = (m: Record<string, any>) => {
  m.kind = 'clip';
  m.input.layout = 'NCTHW';
  m.input.clipLength = T;
  m.input.clipStride = 2;
  m.input.sampling = 'clip:32';
  m.calibration.temperature = 2;
};

describe('ClipClassifier', () => {
  let dir: string;
  let clf: ClipClassifier;

  before(async () => {
    dir = await tempDir();
    clf = await ClipClassifier.load(await writeModel(dir, 'clip', clipManifest, tinyClipOnnxModel({ clipLength: T, size: SIZE })), {
      batchSize: 2,
      intraOpNumThreads: 1,
    });
  });
  after(() => clf.dispose());

  it('exposes clip length, stride, gap rule, temperature and band from the manifest', () => {
    assert.equal(clf.clipLength, T);
    assert.equal(clf.stride, 2);
    assert.equal(clf.maxGap, 0);
    assert.equal(clf.temperature, 2);
    assert.deepEqual(clf.band, { realBelow: 0.3, fakeAbove: 0.7 });
    assert.equal(clf.manifest.input.sampling, 'clip:32');
  });

  it('returns one logit per clip, in time order (batches of 2 over 3 clips, reflected padding included)', async () => {
    const clips = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [5, 5, 5, 5],
    ];
    const logits = await clf.predictClips(crops, clips);
    assert.equal(logits.length, 3);
    clips.forEach((c, k) => close(logits[k], expectedClipLogit(c.map((i) => crops[i]), mean, std)));
    assert.notEqual(logits[0], logits[1], 'frame order matters');
    const calibrated = await clf.predictClipsCalibrated(crops, clips);
    calibrated.forEach((z, k) => close(z, logits[k] / 2));
  });

  it('resizes crops that are not at the model size', async () => {
    const big = crops.map((c) => makeCrop(8, (x, y) => [c.rgb[((y >> 1) * SIZE + (x >> 1)) * 3], 10, 20], c.frameIndex));
    const [z] = await clf.predictClips(big, [[0, 1, 2, 3]]);
    assert.ok(Number.isFinite(z));
  });

  it('rejects clips of the wrong length or with bad indices', async () => {
    await assert.rejects(clf.predictClips(crops, [[0, 1, 2]]), /has 3 frames; the model takes 4/);
    await assert.rejects(clf.predictClips(crops, [[0, 1, 2, 9]]), /refers to crop 9/);
  });

  it('scores every crop of a track, a one-crop input included, through clip scoring', async () => {
    const perCrop = await scoreCropsByClips(clf, crops, [0, 1, 2, 3, 4, 5]);
    // windows [0..3] and [2..5]
    const a = expectedClipLogit(crops.slice(0, 4), mean, std) / 2;
    const b = expectedClipLogit(crops.slice(2, 6), mean, std) / 2;
    [a, a, (a + b) / 2, (a + b) / 2, b, b].forEach((want, i) => close(perCrop[i], want));
    const single = await scoreCropsByClips(clf, [crops[3]], [3]);
    close(single[0], expectedClipLogit([crops[3], crops[3], crops[3], crops[3]], mean, std) / 2);
  });
});

describe('assembleClips', () => {
  it('packs NCHW frames into NCTHW clips', () => {
    const frames = cropsToTensor(crops.slice(0, 3), SIZE, mean as [number, number, number], std as [number, number, number]);
    const out = assembleClips(frames, SIZE, [[2, 0], [1, 1]]);
    const plane = SIZE * SIZE;
    assert.equal(out.length, 2 * 3 * 2 * plane);
    for (const [n, clip] of [[2, 0], [1, 1]].entries()) {
      clip.forEach((f, t) => {
        for (let c = 0; c < 3; c++) {
          const got = out.subarray(((n * 3 + c) * 2 + t) * plane, ((n * 3 + c) * 2 + t + 1) * plane);
          assert.deepEqual([...got], [...frames.subarray((f * 3 + c) * plane, (f * 3 + c + 1) * plane)]);
        }
      });
    }
  });
});

describe('ClipClassifier.load errors', () => {
  it('refuses a frame model, a clip manifest without clipLength, and a stride above the clip length', async () => {
    const dir = await tempDir();
    await assert.rejects(ClipClassifier.load(await writeModel(dir, 'frame')), (e: unknown) => e instanceof ModelLoadError && /a clip\/NCTHW model is needed/.test(e.message));
    const noT = await writeModel(dir, 'not', (m) => (clipManifest(m), delete m.input.clipLength), tinyClipOnnxModel({ clipLength: T, size: SIZE }));
    await assert.rejects(ClipClassifier.load(noT), /without input.clipLength/);
    const badStride = await writeModel(dir, 'stride', (m) => (clipManifest(m), (m.input.clipStride = 9)), tinyClipOnnxModel({ clipLength: T, size: SIZE }));
    await assert.rejects(ClipClassifier.load(badStride), /clipStride 9 exceeds/);
  });

  it('refuses an ONNX input that does not match the manifest clip length, and a missing file', async () => {
    const dir = await tempDir();
    const wrongT = await writeModel(dir, 'wrong', clipManifest, tinyClipOnnxModel({ clipLength: T + 1, size: SIZE }));
    await assert.rejects(ClipClassifier.load(wrongT), (e: unknown) => e instanceof ModelLoadError && /expected \[N, 3, 4, 4, 4\]/.test(e.message));
    const missing = await writeModel(dir, 'missing', clipManifest, null);
    await assert.rejects(ClipClassifier.load(missing), /ONNX file not found/);
    const badJson = join(dir, 'bad.manifest.json');
    await writeFile(badJson, '{"kind": "clip"}');
    await assert.rejects(ClipClassifier.load(badJson), InvalidManifestError);
    await assert.rejects(ClipClassifier.load(wrongT, { batchSize: 0 }), InvalidOptionError);
  });

  it('accepts an [N, 1] output', async () => {
    const dir = await tempDir();
    const c = await ClipClassifier.load(await writeModel(dir, 'n1', clipManifest, tinyClipOnnxModel({ clipLength: T, size: SIZE, output: 'N1' })), { intraOpNumThreads: 1 });
    try {
      const [z] = await c.predictClips(crops, [[0, 1, 2, 3]]);
      close(z, expectedClipLogit(crops.slice(0, 4), mean, std));
    } finally {
      await c.dispose();
    }
  });
});
