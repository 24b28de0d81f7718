/**
 * End-to-end FrameClassifier tests on a real onnxruntime session: the model is a hand-encoded
 * ONNX graph `logit = ReduceMean(input, axes=[1,2,3])`, so the expected logit of a crop is the mean
 * of its normalised pixels.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FrameClassifier } from '../src/models/frame_classifier.js';
import { InvalidOptionError, ModelLoadError } from '../src/util/errors.js';
import { expectedMeanLogit, makeCrop, tempDir, validManifestJson, writeModel } from './helpers/model_fixtures.js';

const { mean, std } = validManifestJson().input as { mean: number[]; std: number[] };
const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

/** Five different 4 px crops: gradients that vary per crop, channel and pixel. */
const crops = Array.from({ length: 5 }, (_, k) =>
  makeCrop(4, (x, y) => [(40 * k + 13 * x) % 256, (7 * y + 50 * k) % 256, (x * y * 9 + k) % 256], k, k % 2),
);

/** Asserts a promise rejects with a one-line ModelLoadError matching `pattern`. */
async function rejectsLoad(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ModelLoadError, `not a ModelLoadError: ${String(err)}`);
    assert.equal(err.code, 'MODEL_LOAD');
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), `one-line message: ${err.message}`);
    return true;
  });
}

describe('FrameClassifier', () => {
  let dir: string;
  let clf: FrameClassifier;

  before(async () => {
    dir = await tempDir();
    clf = await FrameClassifier.load(await writeModel(dir, 'tiny', (m) => (m.calibration.temperature = 2)), {
      batchSize: 2,
      intraOpNumThreads: 1,
    });
  });
  after(() => clf.dispose());

  it('exposes the manifest, temperature and band', () => {
    assert.equal(clf.manifest.name, 'tiny');
    assert.equal(clf.temperature, 2);
    assert.deepEqual(clf.band, { realBelow: 0.3, fakeAbove: 0.7 });
    assert.equal(clf.onnxPath, join(dir, 'tiny.onnx'));
  });

  it('returns one raw logit per crop equal to the mean normalised pixel (batches of 2 over 5 crops)', async () => {
    const logits = await clf.predict(crops);
    assert.ok(logits instanceof Float32Array);
    assert.equal(logits.length, 5);
    crops.forEach((c, i) => close(logits[i], expectedMeanLogit(c, mean, std)));
    // Not all equal: the batches were not mixed up.
    assert.equal(new Set(logits).size, 5);
  });

  it('predictCalibrated divides by the temperature', async () => {
    const raw = await clf.predict(crops);
    const cal = await clf.predictCalibrated(crops);
    raw.forEach((r, i) => close(cal[i], r / 2));
  });

  it('resizes crops that are not at the model size', async () => {
    const big = makeCrop(16, () => [180, 60, 90]);
    const [logit] = await clf.predict([big]);
    close(logit, expectedMeanLogit(makeCrop(4, () => [180, 60, 90]), mean, std));
  });

  it('returns an empty array for no crops', async () => {
    assert.equal((await clf.predict([])).length, 0);
  });

  it('accepts an [N, 1] output', async () => {
    const m = await FrameClassifier.load(await writeModel(dir, 'n1', () => {}, { output: 'N1' }));
    try {
      const logits = await m.predict(crops.slice(0, 3));
      crops.slice(0, 3).forEach((c, i) => close(logits[i], expectedMeanLogit(c, mean, std)));
    } finally {
      await m.dispose();
    }
  });

  it('rejects an output of another shape at predict time when the model does not declare it', async () => {
    const m = await FrameClassifier.load(await writeModel(dir, 'n3', () => {}, { output: 'N3', outputShape: false }));
    try {
      await rejectsLoad(m.predict(crops), /output "logit" is float32 \[5, 3\]; expected float32 \[5, 1\] or \[5\]/);
    } finally {
      await m.dispose();
    }
  });

  it('refuses to predict after dispose', async () => {
    const m = await FrameClassifier.load(await writeModel(dir, 'gone'));
    await m.dispose();
    await m.dispose(); // idempotent
    await assert.rejects(m.predict(crops), /disposed/);
  });
});

describe('FrameClassifier.load errors', () => {
  it('missing ONNX file', async () => {
    const dir = await tempDir();
    await rejectsLoad(FrameClassifier.load(await writeModel(dir, 'noonnx', () => {}, null)), /ONNX file not found/);
  });

  it('a file onnxruntime cannot load', async () => {
    const dir = await tempDir();
    const path = await writeModel(dir, 'junk', () => {}, new TextEncoder().encode('this is not an onnx model\n'.repeat(20)));
    await rejectsLoad(FrameClassifier.load(path), /cannot load model .*junk\.onnx: /);
  });

  it('an input size that disagrees with the manifest', async () => {
    const dir = await tempDir();
    await rejectsLoad(FrameClassifier.load(await writeModel(dir, 'sz', () => {}, { size: 8 })), /\[N, 3, 8, 8\].*\[N, 3, 4, 4\]/);
  });

  it('a declared output shape other than [N, 1] or [N]', async () => {
    const dir = await tempDir();
    await rejectsLoad(
      FrameClassifier.load(await writeModel(dir, 'n3', () => {}, { output: 'N3' })),
      /output "logit" has shape \[N, 3\], expected \[N, 1\] or \[N\]/,
    );
  });

  it('a clip model', async () => {
    const dir = await tempDir();
    const path = await writeModel(dir, 'clip', (m) => {
      m.kind = 'clip';
      m.input.layout = 'NCTHW';
      m.input.clipLength = 8;
    });
    await rejectsLoad(FrameClassifier.load(path), /frame\/NCHW model is needed/);
  });

  it('bad options', async () => {
    const dir = await tempDir();
    const path = await writeModel(dir, 'opt');
    await assert.rejects(FrameClassifier.load(path, { batchSize: 0 }), InvalidOptionError);
    await assert.rejects(FrameClassifier.load(path, { intraOpNumThreads: 1.5 }), InvalidOptionError);
  });
});
