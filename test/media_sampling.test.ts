import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowsNearbyFrames,
  DEFAULT_SAMPLING,
  parseSampling,
  sampleFrameIndices,
  selectExpression,
  validateSampling,
  type SamplingPolicy,
} from '../src/media/sampling.js';
import { InvalidOptionError } from '../src/util/errors.js';

const range = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i);

/** Sorted ascending, no duplicates, all inside [0, frameCount). */
function assertWellFormed(idx: number[], frameCount: number): void {
  for (let i = 0; i < idx.length; i++) {
    assert.ok(Number.isInteger(idx[i]), `index ${idx[i]} is not an integer`);
    assert.ok(idx[i] >= 0 && idx[i] < frameCount, `index ${idx[i]} out of range`);
    if (i > 0) assert.ok(idx[i] > idx[i - 1], `not strictly increasing at ${i}: ${idx[i - 1]}, ${idx[i]}`);
  }
}

describe('sampleFrameIndices: uniform', () => {
  it('32 of 300: unique, sorted, first 0, last 299, evenly spaced', () => {
    const idx = sampleFrameIndices({ kind: 'uniform', count: 32 }, 300, 30);
    assert.equal(idx.length, 32);
    assertWellFormed(idx, 300);
    assert.equal(idx[0], 0);
    assert.equal(idx[31], 299);
    // Step is 299/31 = 9.645..., so consecutive gaps are 9 or 10 frames.
    for (let i = 1; i < idx.length; i++) {
      const gap = idx[i] - idx[i - 1];
      assert.ok(gap === 9 || gap === 10, `gap ${gap} at ${i}`);
    }
    // Hand-checked samples: round(i * 299 / 31).
    assert.equal(idx[1], 10); // 9.645 -> 10
    assert.equal(idx[2], 19); // 19.29 -> 19
    assert.equal(idx[16], 154); // 154.32 -> 154
    assert.equal(idx[30], 289); // 289.35 -> 289
    assert.deepEqual(
      idx,
      [0, 10, 19, 29, 39, 48, 58, 68, 77, 87, 96, 106, 116, 125, 135, 145, 154, 164, 174, 183, 193, 203, 212, 222, 231, 241, 251, 260, 270, 280, 289, 299],
    );
  });

  it('the default policy is uniform:32', () => {
    assert.deepEqual(DEFAULT_SAMPLING, { kind: 'uniform', count: 32 });
    assert.deepEqual(sampleFrameIndices(DEFAULT_SAMPLING, 300, 30), sampleFrameIndices({ kind: 'uniform', count: 32 }, 300, 30));
  });

  it('5 of 9 hits every other frame exactly', () => {
    // step (9-1)/(5-1) = 2
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 5 }, 9, 25), [0, 2, 4, 6, 8]);
  });

  it('2 frames are the first and the last', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 2 }, 300, 25), [0, 299]);
  });

  it('count >= frameCount returns every frame', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 32 }, 20, 25), range(0, 20));
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 20 }, 20, 25), range(0, 20));
  });

  it('count 1 returns the middle frame', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 1 }, 300, 25), [149]); // floor(299 / 2)
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 1 }, 101, 25), [50]); // exact middle
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 1 }, 2, 25), [0]);
  });

  it('a 1-frame video yields frame 0', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 32 }, 1, 25), [0]);
    assert.deepEqual(sampleFrameIndices({ kind: 'uniform', count: 1 }, 1, 25), [0]);
  });

  it('an empty video yields no frames for every policy', () => {
    const policies: SamplingPolicy[] = [
      { kind: 'uniform', count: 32 },
      { kind: 'fps', fps: 2 },
      { kind: 'clip', count: 16 },
      { kind: 'range', start: 0, count: 5 },
    ];
    for (const p of policies) assert.deepEqual(sampleFrameIndices(p, 0, 25), [], p.kind);
  });
});

describe('sampleFrameIndices: fps', () => {
  it('2 fps from a 25 fps video of 100 frames: every 12.5 frames, rounded half up', () => {
    // t = 0, 12.5, 25, 37.5, 50, 62.5, 75, 87.5; 100 > 99 stops.
    assert.deepEqual(sampleFrameIndices({ kind: 'fps', fps: 2 }, 100, 25), [0, 13, 25, 38, 50, 63, 75, 88]);
  });

  it('integer steps: 5 fps from 25 fps is every 5th frame, including a last frame that lands exactly', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'fps', fps: 5 }, 21, 25), [0, 5, 10, 15, 20]);
  });

  it('a rate at or above the video rate returns every frame', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'fps', fps: 25 }, 10, 25), range(0, 10));
    assert.deepEqual(sampleFrameIndices({ kind: 'fps', fps: 60 }, 10, 25), range(0, 10));
  });

  it('an unknown video rate (0) is taken as 25 fps', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'fps', fps: 2 }, 100, 0), [0, 13, 25, 38, 50, 63, 75, 88]);
  });

  it('fractional rates: 0.5 fps of a 30 fps video is every 60 frames', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'fps', fps: 0.5 }, 200, 30), [0, 60, 120, 180]);
  });

  it('a 1-frame video yields frame 0', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'fps', fps: 2 }, 1, 25), [0]);
  });

  it('results are well formed on an awkward rate', () => {
    const idx = sampleFrameIndices({ kind: 'fps', fps: 7 }, 1000, 29.97);
    assertWellFormed(idx, 1000);
    assert.equal(idx[0], 0);
    // 1000 frames at 29.97 fps is 33.37 s; 7 fps gives 234 samples (t = 0 .. 233 * 4.2814 = 997.6).
    assert.equal(idx.length, 234);
  });
});

describe('sampleFrameIndices: clip', () => {
  it('32 from the middle of 100 is 34..65', () => {
    // start = floor((100 - 32) / 2) = 34
    assert.deepEqual(sampleFrameIndices({ kind: 'clip', count: 32 }, 100, 25), range(34, 32));
  });

  it('an odd leftover puts the extra frame after the clip', () => {
    // start = floor((100 - 33) / 2) = 33 -> 33..65, 33 frames before and 34 after
    assert.deepEqual(sampleFrameIndices({ kind: 'clip', count: 33 }, 100, 25), range(33, 33));
  });

  it('a clip longer than the video returns every frame', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'clip', count: 32 }, 10, 25), range(0, 10));
    assert.deepEqual(sampleFrameIndices({ kind: 'clip', count: 10 }, 10, 25), range(0, 10));
  });
});

describe('sampleFrameIndices: range', () => {
  it('start 10, count 101 -> 10..110', () => {
    const idx = sampleFrameIndices({ kind: 'range', start: 10, count: 101 }, 300, 25);
    assert.equal(idx.length, 101);
    assert.equal(idx[0], 10);
    assert.equal(idx[100], 110);
    assert.deepEqual(idx, range(10, 101));
  });

  it('a start beyond the end returns []', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'range', start: 300, count: 5 }, 300, 25), []);
    assert.deepEqual(sampleFrameIndices({ kind: 'range', start: 1000, count: 5 }, 300, 25), []);
  });

  it('a range running past the end is truncated at the last frame', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'range', start: 250, count: 101 }, 300, 25), range(250, 50));
    assert.deepEqual(sampleFrameIndices({ kind: 'range', start: 299, count: 10 }, 300, 25), [299]);
  });

  it('start 0 works', () => {
    assert.deepEqual(sampleFrameIndices({ kind: 'range', start: 0, count: 3 }, 300, 25), [0, 1, 2]);
  });
});

describe('sampleFrameIndices: invalid options', () => {
  const bad: [string, SamplingPolicy][] = [
    ['uniform count 0', { kind: 'uniform', count: 0 }],
    ['uniform count -3', { kind: 'uniform', count: -3 }],
    ['uniform count 2.5', { kind: 'uniform', count: 2.5 }],
    ['uniform count NaN', { kind: 'uniform', count: NaN }],
    ['clip count 0', { kind: 'clip', count: 0 }],
    ['clip count NaN', { kind: 'clip', count: NaN }],
    ['fps 0', { kind: 'fps', fps: 0 }],
    ['fps -1', { kind: 'fps', fps: -1 }],
    ['fps NaN', { kind: 'fps', fps: NaN }],
    ['fps Infinity', { kind: 'fps', fps: Infinity }],
    ['range negative start', { kind: 'range', start: -1, count: 5 }],
    ['range fractional start', { kind: 'range', start: 1.5, count: 5 }],
    ['range NaN start', { kind: 'range', start: NaN, count: 5 }],
    ['range count 0', { kind: 'range', start: 0, count: 0 }],
  ];
  for (const [name, p] of bad) {
    it(`throws InvalidOptionError for ${name}`, () => {
      assert.throws(() => sampleFrameIndices(p, 100, 25), InvalidOptionError);
      assert.throws(() => validateSampling(p), (e: unknown) => e instanceof InvalidOptionError && e.code === 'INVALID_OPTION');
    });
  }

  it('validates even when the video is empty', () => {
    assert.throws(() => sampleFrameIndices({ kind: 'uniform', count: 0 }, 0, 25), InvalidOptionError);
  });

  it('accepts valid policies', () => {
    assert.doesNotThrow(() => validateSampling({ kind: 'fps', fps: 0.25 }));
    assert.doesNotThrow(() => validateSampling({ kind: 'range', start: 0, count: 1 }));
  });
});

describe('parseSampling', () => {
  it('parses each policy', () => {
    assert.deepEqual(parseSampling('uniform:32'), { kind: 'uniform', count: 32 });
    assert.deepEqual(parseSampling('fps:2'), { kind: 'fps', fps: 2 });
    assert.deepEqual(parseSampling('fps:0.5'), { kind: 'fps', fps: 0.5 });
    assert.deepEqual(parseSampling('clip:16'), { kind: 'clip', count: 16 });
    assert.deepEqual(parseSampling('range:10:101'), { kind: 'range', start: 10, count: 101 });
    assert.deepEqual(parseSampling('range:0:1'), { kind: 'range', start: 0, count: 1 });
    assert.deepEqual(parseSampling('uniform:32:exact'), { kind: 'uniform', count: 32, exact: true });
    assert.deepEqual(parseSampling('fps:2:exact'), { kind: 'fps', fps: 2, exact: true });
  });

  it('only spread-out policies without `exact` may move samples to reference frames', () => {
    assert.equal(allowsNearbyFrames(parseSampling('uniform:32')), true);
    assert.equal(allowsNearbyFrames(parseSampling('fps:2')), true);
    assert.equal(allowsNearbyFrames(parseSampling('uniform:32:exact')), false);
    assert.equal(allowsNearbyFrames(parseSampling('fps:2:exact')), false);
    assert.equal(allowsNearbyFrames(parseSampling('clip:16')), false);
    assert.equal(allowsNearbyFrames(parseSampling('range:10:101')), false);
  });

  it('round-trips into sampleFrameIndices', () => {
    assert.deepEqual(sampleFrameIndices(parseSampling('range:10:101'), 300, 25), range(10, 101));
  });

  for (const spec of ['bogus:3', 'uniform:', 'uniform', 'range:5', 'range:5:', 'uniform:-1', 'uniform:0', 'uniform:abc', 'uniform:2.5', 'fps:0', 'fps:x', 'clip:', 'range:-1:5', 'range::5', 'fps:', '', 'UNIFORM:32', 'uniform:32:fast', 'uniform:32:exact:1', 'clip:16:exact', 'range:1:2:exact']) {
    it(`rejects ${JSON.stringify(spec)} with InvalidOptionError`, () => {
      assert.throws(() => parseSampling(spec), InvalidOptionError);
    });
  }

  it('names the spec in the error message', () => {
    assert.throws(() => parseSampling('bogus:3'), /bogus:3/);
    assert.throws(() => parseSampling('range:5'), /range:5/);
  });
});

describe('selectExpression', () => {
  it('compresses consecutive runs into between() and singletons into eq(), commas escaped for ffmpeg', () => {
    assert.equal(selectExpression([1, 2, 3, 7, 9, 10]), 'between(n\\,1\\,3)+eq(n\\,7)+between(n\\,9\\,10)');
  });

  it('a long consecutive run is one term', () => {
    assert.equal(selectExpression(range(0, 300)), 'between(n\\,0\\,299)');
  });

  it('a single index is one eq term', () => {
    assert.equal(selectExpression([42]), 'eq(n\\,42)');
  });

  it('no indices is an empty expression', () => {
    assert.equal(selectExpression([]), '');
  });

  it('non-consecutive indices are all eq terms', () => {
    assert.equal(selectExpression([0, 13, 25]), 'eq(n\\,0)+eq(n\\,13)+eq(n\\,25)');
  });

  it('literal backslash before each comma (one backslash character, not two)', () => {
    const s = selectExpression([4, 5]);
    assert.equal(s.length, 'between(n\\,4\\,5)'.length);
    assert.equal(s.split('\\').length - 1, 2);
    assert.ok(!s.includes('\\\\'));
  });
});
