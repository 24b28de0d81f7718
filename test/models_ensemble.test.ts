import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ensemble } from '../src/models/ensemble.js';
import { FrameClassifier } from '../src/models/frame_classifier.js';
import { InvalidOptionError, ModelLoadError } from '../src/util/errors.js';
import { expectedMeanLogit, makeCrop, tempDir, validManifestJson, writeModel } from './helpers/model_fixtures.js';

const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

describe('Ensemble', () => {
  it('averages the members’ calibrated logits and bands', async () => {
    const dir = await tempDir();
    const a = await writeModel(dir, 'a', (m) => {
      m.calibration.temperature = 1;
      m.decision = { realBelow: 0.2, fakeAbove: 0.6 };
    });
    // Same network, other normalisation, temperature 4.
    const b = await writeModel(dir, 'b', (m) => {
      m.input.mean = [0, 0, 0];
      m.input.std = [1, 1, 1];
      m.calibration.temperature = 4;
      m.decision = { realBelow: 0.4, fakeAbove: 0.9 };
    });
    const ens = await Ensemble.load([a, b], { intraOpNumThreads: 1 });
    try {
      assert.equal(ens.members.length, 2);
      const band = ens.band;
      close(band.realBelow, 0.3);
      close(band.fakeAbove, 0.75);

      const crops = [makeCrop(4, (x, y) => [x * 60, y * 60, 128]), makeCrop(4, () => [255, 0, 30])];
      const { mean, std } = validManifestJson().input;
      const got = await ens.predict(crops);
      crops.forEach((c, i) => {
        const la = expectedMeanLogit(c, mean, std) / 1;
        const lb = expectedMeanLogit(c, [0, 0, 0], [1, 1, 1]) / 4;
        close(got[i], (la + lb) / 2);
      });
      assert.deepEqual(await ens.predictCalibrated(crops), got);
    } finally {
      await ens.dispose();
    }
  });

  it('needs at least one model', async () => {
    await assert.rejects(Ensemble.load([]), InvalidOptionError);
    assert.throws(() => new Ensemble([]), InvalidOptionError);
  });

  it('disposes loaded members when a later one fails', async () => {
    const dir = await tempDir();
    const ok = await writeModel(dir, 'ok');
    const missing = await writeModel(dir, 'missing', () => {}, null);
    await assert.rejects(Ensemble.load([ok, missing]), ModelLoadError);
  });

  it('a single member ensemble equals that member calibrated', async () => {
    const dir = await tempDir();
    const path = await writeModel(dir, 'solo', (m) => (m.calibration.temperature = 0.5));
    const ens = await Ensemble.load([path]);
    const solo = await FrameClassifier.load(path);
    try {
      const crops = [makeCrop(4, () => [10, 20, 30])];
      assert.deepEqual(await ens.predict(crops), await solo.predictCalibrated(crops));
      assert.deepEqual(ens.band, solo.band);
    } finally {
      await Promise.all([ens.dispose(), solo.dispose()]);
    }
  });
});
