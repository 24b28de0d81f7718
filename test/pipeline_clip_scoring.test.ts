/** Clip scoring: windows, reflection padding of short tracks, gaps, and frame logit = mean of covering clips. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultStride,
  frameLogitsFromClips,
  planTrackClips,
  planWindows,
  reflectIndex,
  scoreCropsByClips,
  splitSegments,
  windowIndices,
  type ClipModel,
} from '../src/pipeline/clip_scoring.js';
import type { FaceCrop } from '../src/types.js';
import { InvalidOptionError } from '../src/util/errors.js';
import { makeCrop } from './helpers/model_fixtures.js';

const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);

describe('reflection padding', () => {
  it('reflects a b c into a b c b a b c b ...', () => {
    assert.deepEqual(range(0, 9).map((i) => reflectIndex(i, 3)), [0, 1, 2, 1, 0, 1, 2, 1, 0]);
    assert.deepEqual(range(0, 5).map((i) => reflectIndex(i, 2)), [0, 1, 0, 1, 0]);
    assert.deepEqual(range(0, 4).map((i) => reflectIndex(i, 1)), [0, 0, 0, 0]);
    assert.throws(() => reflectIndex(0, 0), RangeError);
  });

  it('pads every track of 1..8 frames to one full clip of T = 8 holding each frame', () => {
    for (let n = 1; n <= 8; n++) {
      const w = planWindows(n, 8, 4);
      assert.equal(w.length, 1, `n=${n}`);
      assert.equal(w[0].length, 8);
      assert.deepEqual(w[0].slice(0, n), range(0, n), 'the track first, in order');
      assert.deepEqual(new Set(w[0]), new Set(range(0, n)));
      // each step moves by one frame: a reflection, never a jump
      for (let k = 1; k < 8; k++) assert.ok(Math.abs(w[0][k] - w[0][k - 1]) <= 1, `n=${n} ${w[0]}`);
    }
    assert.deepEqual(windowIndices(3, 8), [0, 1, 2, 1, 0, 1, 2, 1]);
    assert.deepEqual(windowIndices(1, 4), [0, 0, 0, 0]);
  });
});

describe('planWindows', () => {
  it('covers every frame with full clips, for tracks of 1..T+3 frames and every stride', () => {
    for (const t of [1, 2, 4, 8, 16]) {
      for (let stride = 1; stride <= t; stride++) {
        for (let n = 1; n <= t + 3; n++) {
          const wins = planWindows(n, t, stride);
          assert.ok(wins.length >= 1);
          for (const w of wins) {
            assert.equal(w.length, t);
            assert.ok(w.every((i) => i >= 0 && i < n));
            if (n >= t) assert.deepEqual(w, range(w[0], t), 'no padding when the track is long enough');
          }
          assert.deepEqual(new Set(wins.flat()), new Set(range(0, n)), `t=${t} stride=${stride} n=${n}`);
          if (n >= t) {
            const starts = wins.map((w) => w[0]);
            assert.deepEqual(starts, [...new Set(starts)].sort((a, b) => a - b), 'distinct, in order');
            assert.equal(starts[starts.length - 1], n - t, 'the last clip ends on the last frame');
          }
        }
      }
    }
  });

  it('uses the stride, then one more window to reach the end', () => {
    assert.deepEqual(planWindows(7, 4, 2), [range(0, 4), range(2, 4), range(3, 4)]);
    assert.deepEqual(planWindows(8, 4, 2), [range(0, 4), range(2, 4), range(4, 4)]);
    assert.deepEqual(planWindows(10, 4, 4), [range(0, 4), range(4, 4), range(6, 4)]);
    assert.deepEqual(planWindows(0, 4, 2), []);
    assert.equal(defaultStride(16), 8);
    assert.equal(defaultStride(1), 1);
  });

  it('refuses impossible plans with an InvalidOptionError', () => {
    assert.throws(() => planWindows(5, 0, 1), InvalidOptionError);
    assert.throws(() => planWindows(5, 4, 5), InvalidOptionError);
    assert.throws(() => planWindows(5, 4, 0), InvalidOptionError);
    assert.throws(() => planTrackClips([], { clipLength: 4, maxGap: -1 }), InvalidOptionError);
  });
});

describe('splitSegments and planTrackClips', () => {
  it('cuts a track where it misses sampled frames', () => {
    assert.deepEqual(splitSegments([0, 1, 2, 4, 5, 9]), [[0, 1, 2], [3, 4], [5]]);
    assert.deepEqual(splitSegments([0, 1, 2, 4, 5, 9], 1), [[0, 1, 2, 3, 4], [5]]);
    assert.deepEqual(splitSegments([]), []);
  });

  it('plans per track, in frame order, with gaps taken from the decoded frames', () => {
    // track 0: frames 10..15 with 13 missed; track 1: only frame 11; items given out of order
    const items = [
      { frameIndex: 15, trackId: 0 },
      { frameIndex: 10, trackId: 0 },
      { frameIndex: 11, trackId: 1 },
      { frameIndex: 11, trackId: 0 },
      { frameIndex: 12, trackId: 0 },
      { frameIndex: 14, trackId: 0 },
    ];
    const decoded = range(10, 6);
    const clips = planTrackClips(items, { clipLength: 4 }, decoded);
    assert.deepEqual(clips, [
      { trackId: 0, items: [1, 3, 4, 3] }, // frames 10 11 12 11: padded by reflection, not bridged over 13
      { trackId: 0, items: [5, 0, 5, 0] }, // frames 14 15 14 15
      { trackId: 1, items: [2, 2, 2, 2] }, // a 1-frame track
    ]);
    // maxGap 1 bridges the missed frame: one track of 5 crops, windows [0..3], [1..4]
    const bridged = planTrackClips(items, { clipLength: 4, maxGap: 1 }, decoded).filter((c) => c.trackId === 0);
    assert.deepEqual(bridged.map((c) => c.items), [[1, 3, 4, 5], [3, 4, 5, 0]]);
    // without decoded frames, the items' distinct frames stand in: 10, 11, 12, 14, 15 look consecutive
    const guessed = planTrackClips(items, { clipLength: 4 }).filter((c) => c.trackId === 0);
    assert.deepEqual(guessed.map((c) => c.items), [[1, 3, 4, 5], [3, 4, 5, 0]]);
  });

  it('puts every item of every track of 1..T+3 frames into a clip', () => {
    for (let n = 1; n <= 11; n++) {
      const items = range(0, n).flatMap((f) => [{ frameIndex: f, trackId: 0 }, ...(f % 3 === 0 ? [{ frameIndex: f, trackId: 1 }] : [])]);
      const clips = planTrackClips(items, { clipLength: 8, stride: 3 }, range(0, n));
      assert.deepEqual(new Set(clips.flatMap((c) => c.items)), new Set(range(0, items.length)), `n=${n}`);
      for (const c of clips) assert.ok(c.items.every((i) => items[i].trackId === c.trackId), 'a clip never mixes tracks');
    }
  });
});

describe('frameLogitsFromClips', () => {
  it('averages the clips covering each frame, each clip once', () => {
    // frames 0..4, clips [0..3] -> 1, [1..4] -> 3
    assert.deepEqual([...frameLogitsFromClips(5, [{ items: [0, 1, 2, 3] }, { items: [1, 2, 3, 4] }], [1, 3])], [1, 2, 2, 2, 3]);
    // reflection repeats frames inside a clip: still one vote per clip
    assert.deepEqual([...frameLogitsFromClips(2, [{ items: [0, 1, 0, 1] }, { items: [1, 1, 1, 1] }], [4, 2])], [4, 3]);
  });

  it('rejects inconsistent input', () => {
    assert.throws(() => frameLogitsFromClips(2, [{ items: [0, 0] }], [1]), /item 1 is in no clip/);
    assert.throws(() => frameLogitsFromClips(1, [{ items: [0, 3] }], [1]), RangeError);
    assert.throws(() => frameLogitsFromClips(1, [{ items: [0] }], []), RangeError);
  });
});

describe('scoreCropsByClips', () => {
  /** A fake clip model whose clip logit is the mean frame index of the clip (no ONNX needed). */
  const model = (clipLength: number, stride?: number): ClipModel & { calls: number[][] } => {
    const calls: number[][] = [];
    return {
      clipLength,
      stride,
      maxGap: 0,
      calls,
      async predictClipsCalibrated(crops: readonly FaceCrop[], clips: readonly (readonly number[])[]) {
        clips.forEach((c) => calls.push([...c]));
        return Float32Array.from(clips.map((c) => c.reduce((s, i) => s + crops[i].frameIndex, 0) / c.length));
      },
    };
  };
  const crop = (frameIndex: number, trackId = 0) => makeCrop(2, () => [0, 0, 0], frameIndex, trackId);

  it('scores a single crop (an image) by a clip of that crop repeated', async () => {
    const m = model(8);
    const logits = await scoreCropsByClips(m, [crop(0)], [0]);
    assert.deepEqual([...logits], [0]);
    assert.deepEqual(m.calls, [[0, 0, 0, 0, 0, 0, 0, 0]]);
    assert.deepEqual([...(await scoreCropsByClips(m, [], []))], []);
  });

  it('gives each crop the mean of the clips covering it', async () => {
    const m = model(4, 2);
    const crops = range(0, 6).map((f) => crop(f));
    const logits = await scoreCropsByClips(m, crops, range(0, 6));
    // clips [0..3] -> 1.5, [2..5] -> 3.5
    assert.deepEqual([...logits], [1.5, 1.5, 2.5, 2.5, 3.5, 3.5]);
    // a stride override: windows [0..3], [1..4], [2..5]
    const m1 = model(4, 2);
    await scoreCropsByClips(m1, crops, range(0, 6), 1);
    assert.equal(m1.calls.length, 3);
  });
});
