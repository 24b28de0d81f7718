import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLoss, rocAuc } from '../src/eval/metrics.js';
import { InvalidOptionError } from '../src/util/errors.js';

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
});

test('rocAuc: a single class is a clear error, not NaN', () => {
  assert.throws(() => rocAuc([1, 1], [0.2, 0.3]), InvalidOptionError);
  assert.throws(() => rocAuc([0, 1], [0.2]), InvalidOptionError);
});

test('logLoss: hand-computed and clipped', () => {
  assert.ok(Math.abs(logLoss([1, 0], [0.5, 0.5]) - Math.log(2)) < 1e-12);
  assert.ok(Math.abs(logLoss([1, 0], [0.9, 0.2]) - -(Math.log(0.9) + Math.log(0.8)) / 2) < 1e-12);
  assert.ok(Number.isFinite(logLoss([1], [0])), 'p=0 for a fake is clipped, not infinite');
});
