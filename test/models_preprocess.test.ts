import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cropsToTensor, fitCropToSize } from '../src/models/preprocess.js';
import { makeCrop } from './helpers/model_fixtures.js';

const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

describe('cropsToTensor', () => {
  it('writes NCHW planes normalised as (v/255 - mean)/std', () => {
    // 2x2 crop; pixel (x, y) = [R, G, B] with distinct values per position and channel.
    const crop = makeCrop(2, (x, y) => [10 * (y * 2 + x), 100 + (y * 2 + x), 255 - (y * 2 + x)]);
    const mean = [0.5, 0.25, 0] as const;
    const std = [0.5, 0.25, 1] as const;
    const t = cropsToTensor([crop], 2, mean, std);
    assert.equal(t.length, 12);
    const expected = [
      // R plane: v = 0, 10, 20, 30
      ...[0, 10, 20, 30].map((v) => (v / 255 - 0.5) / 0.5),
      // G plane: v = 100..103
      ...[100, 101, 102, 103].map((v) => (v / 255 - 0.25) / 0.25),
      // B plane: v = 255..252
      ...[255, 254, 253, 252].map((v) => v / 255),
    ];
    expected.forEach((e, i) => close(t[i], e));
    // Hand-checked corners: R of pixel 0 is (0 - 0.5)/0.5 = -1; B of pixel 0 is 255/255 = 1.
    close(t[0], -1);
    close(t[8], 1);
  });

  it('stacks crops along N in input order', () => {
    const black = makeCrop(2, () => [0, 0, 0]);
    const white = makeCrop(2, () => [255, 255, 255]);
    const t = cropsToTensor([black, white], 2, [0, 0, 0], [1, 1, 1]);
    assert.equal(t.length, 24);
    assert.deepEqual([...t.subarray(0, 12)], new Array(12).fill(0));
    assert.deepEqual([...t.subarray(12)], new Array(12).fill(1));
  });

  it('returns an empty tensor for no crops', () => {
    assert.equal(cropsToTensor([], 4, [0, 0, 0], [1, 1, 1]).length, 0);
  });

  it('rejects a crop of the wrong size or byte length, and a zero std', () => {
    const c = makeCrop(3, () => [1, 2, 3]);
    assert.throws(() => cropsToTensor([c], 4, [0, 0, 0], [1, 1, 1]), RangeError);
    assert.throws(() => cropsToTensor([{ ...c, rgb: c.rgb.subarray(1) }], 3, [0, 0, 0], [1, 1, 1]), RangeError);
    assert.throws(() => cropsToTensor([c], 3, [0, 0, 0], [1, 0, 1]), /std/);
  });
});

describe('fitCropToSize', () => {
  it('returns the same crop when it already has the size', async () => {
    const c = makeCrop(4, () => [1, 2, 3]);
    assert.equal(await fitCropToSize(c, 4), c);
  });

  it('resizes rgb and scales keypoints', async () => {
    const c = makeCrop(8, () => [200, 100, 50], 7, 2);
    const r = await fitCropToSize(c, 4);
    assert.equal(r.size, 4);
    assert.equal(r.rgb.length, 4 * 4 * 3);
    for (let i = 0; i < r.rgb.length; i += 3) assert.deepEqual([...r.rgb.subarray(i, i + 3)], [200, 100, 50]);
    assert.deepEqual(r.keypoints[1], [0.5, 1]);
    assert.equal(r.frameIndex, 7);
    assert.equal(r.trackId, 2);
    assert.equal(c.size, 8, 'input not modified');
  });
});
