import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideVerdict } from '../src/aggregate/verdict.js';

const band = { realBelow: 0.3, fakeAbove: 0.7 };

describe('decideVerdict', () => {
  it('null is NO_FACE', () => {
    assert.equal(decideVerdict(null, band), 'NO_FACE');
  });

  it('fakeAbove is inclusive', () => {
    assert.equal(decideVerdict(0.7, band), 'FAKE');
    assert.equal(decideVerdict(1, band), 'FAKE');
    assert.equal(decideVerdict(0.6999999, band), 'UNCERTAIN');
  });

  it('realBelow is exclusive', () => {
    assert.equal(decideVerdict(0.3, band), 'UNCERTAIN');
    assert.equal(decideVerdict(0.2999999, band), 'REAL');
    assert.equal(decideVerdict(0, band), 'REAL');
  });

  it('a zero-width band has no UNCERTAIN zone', () => {
    const b = { realBelow: 0.5, fakeAbove: 0.5 };
    assert.equal(decideVerdict(0.5, b), 'FAKE');
    assert.equal(decideVerdict(0.4999999, b), 'REAL');
  });

  it('rejects a probability outside [0, 1] or NaN', () => {
    assert.throws(() => decideVerdict(NaN, band), RangeError);
    assert.throws(() => decideVerdict(1.01, band), RangeError);
    assert.throws(() => decideVerdict(-0.01, band), RangeError);
  });
});
