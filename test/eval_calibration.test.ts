import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../src/eval/bootstrap.js';
import { fitPlatt, fitTemperature, fitTemperatureTo, logitNll } from '../src/eval/calibration.js';
import type { BinaryLabel } from '../src/eval/metrics.js';
import { InvalidOptionError } from '../src/util/errors.js';

/** Labels drawn from sigmoid(a z + b) for z ~ N(0, 2): data whose true calibration is known. */
function synthetic(n: number, a: number, b: number, seed = 1): { z: number[]; labels: BinaryLabel[] } {
  const rand = seededRandom(seed);
  const z: number[] = [], labels: BinaryLabel[] = [];
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    z.push(2 * g);
    labels.push(rand() < 1 / (1 + Math.exp(-(a * z[i] + b))) ? 1 : 0);
  }
  return { z, labels };
}

test('fitTemperature recovers a known temperature', () => {
  // raw logits 3x too confident: true P(FAKE) = sigmoid(raw / 3)
  const { z, labels } = synthetic(20000, 1 / 3, 0);
  const t = fitTemperature(labels, z);
  assert.ok(Math.abs(t - 3) < 0.15, `T = ${t}`);
  // under-confident logits get T < 1
  const under = synthetic(20000, 2, 0, 2);
  const t2 = fitTemperature(under.labels, under.z);
  assert.ok(Math.abs(t2 - 0.5) < 0.03, `T = ${t2}`);
  // the fit is the NLL minimum: a little to either side is worse
  const nll = (s: number) => logitNll(labels, z.map((v) => v / s));
  assert.ok(nll(t) < nll(t * 1.05) && nll(t) < nll(t / 1.05));
});

test('fitTemperatureTo minimises any objective over [0.02, 50]', () => {
  assert.ok(Math.abs(fitTemperatureTo((t) => (Math.log(t) - Math.log(7)) ** 2) - 7) < 1e-4);
  assert.ok(Math.abs(fitTemperatureTo((t) => -t) - 50) < 1e-3, 'clamped to the upper bound');
});

test('fitPlatt recovers a known slope and intercept', () => {
  const { z, labels } = synthetic(20000, 0.5, -1);
  const { a, b } = fitPlatt(labels, z);
  assert.ok(Math.abs(a - 0.5) < 0.05, `a = ${a}`);
  assert.ok(Math.abs(b + 1) < 0.08, `b = ${b}`);
  // separable data stays finite thanks to the smoothed targets
  const sep = fitPlatt([0, 0, 1, 1], [-2, -1, 1, 2]);
  assert.ok(Number.isFinite(sep.a) && Number.isFinite(sep.b) && sep.a > 0);
});

test('calibration needs both classes', () => {
  assert.throws(() => fitTemperature([1, 1], [0.2, 0.3]), InvalidOptionError);
  assert.throws(() => fitPlatt([0, 0], [0.2, 0.3]), InvalidOptionError);
  assert.throws(() => fitTemperature([1, 0], [0.2]), InvalidOptionError);
});

test('calibrateMember: recovers the temperature from scan results and lowers ECE on held-out inputs', async () => {
  const { calibrateMember } = await import('../src/eval/calibrate_models.js');
  const { sigmoid } = await import('../src/aggregate/prob.js');
  // each input: one face, calibrated logit z with true P(FAKE) = sigmoid(z / 2.5)
  const inputs = (seed: number) => {
    const { z, labels } = synthetic(4000, 1 / 2.5, 0, seed);
    return z.map((v, i) => ({
      row: { path: `/v${seed}/${i}.mp4`, label: labels[i] ? ('FAKE' as const) : ('REAL' as const), dataset: 'd', split: 'val', method: '', compression: '' },
      result: {
        status: 'ok',
        frames: [{ frameIndex: 0, timeMs: 0, trackId: 0, probability: sigmoid(v), modelProbabilities: [sigmoid(v)], box: { x: 0, y: 0, width: 1, height: 1 }, detectorScore: 1 }],
      } as any,
    }));
  };
  const models = [{ key: 'm', name: 'm', version: '1', manifest: '/m.json', band: { realBelow: 0.5, fakeAbove: 0.5 }, temperature: 0.8 }];
  for (const level of ['frame', 'video'] as const) {
    const fit = calibrateMember(inputs(11), inputs(12), models, 0, { method: 'temperature', level, strategy: 'mean-logit' });
    assert.ok(Math.abs(fit.temperature - 0.8 * 2.5) < 0.2, `${level}: T = ${fit.temperature}`);
    assert.ok(fit.eceAfter < fit.eceBefore && fit.logLossAfter < fit.logLossBefore, JSON.stringify(fit));
    assert.equal(fit.fittedOn, 4000);
  }
  const platt = calibrateMember(inputs(11), inputs(12), models, 0, { method: 'platt', level: 'video', strategy: 'mean-logit' });
  assert.ok(Math.abs(platt.a! - 0.4) < 0.05 && Math.abs(platt.b!) < 0.1, JSON.stringify(platt));
  assert.ok(Math.abs(platt.temperature - 0.8 / platt.a!) < 1e-12);
});

test('onnxReference: relative inside one top-level folder, absolute across', async () => {
  const { onnxReference } = await import('../src/eval/calibrated_manifest.js');
  assert.equal(onnxReference('/work/runs/x/calibrated', '/work/main/models/m.onnx'), '../../../main/models/m.onnx');
  assert.equal(onnxReference('/tmp/out/calibrated', '/work/main/models/m.onnx'), '/work/main/models/m.onnx');
});
