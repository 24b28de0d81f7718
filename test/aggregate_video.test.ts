import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateVideo, type FrameScore } from '../src/aggregate/aggregate.js';
import { logit, sigmoid } from '../src/aggregate/prob.js';
import { getStrategy } from '../src/aggregate/strategies.js';
import { InvalidOptionError } from '../src/util/errors.js';

const band = { realBelow: 0.3, fakeAbove: 0.7 };
const close = (a: number | null, b: number, eps = 1e-9) => assert.ok(a !== null && Math.abs(a - b) <= eps, `${a} != ${b}`);

// Track 7 (real person, 6 frames, logit -4) and track 2 (swapped, 3 frames, logit 3), interleaved.
const scores: FrameScore[] = [
  ...[0, 1, 2, 3, 4, 5].map((f) => ({ frameIndex: f, trackId: 7, logit: -4 })),
  ...[4, 0, 2].map((f) => ({ frameIndex: f, trackId: 2, logit: 3 })),
];

describe('aggregateVideo', () => {
  it('no frames: probability null, NO_FACE, no tracks', () => {
    assert.deepEqual(aggregateVideo([], 'identity', band), { probability: null, verdict: 'NO_FACE', tracks: [] });
  });

  it('identity: groups by track (ascending id) and takes the most fake one', () => {
    const r = aggregateVideo(scores, 'identity', band);
    assert.deepEqual(
      r.tracks.map((t) => [t.trackId, t.frames]),
      [
        [2, 3],
        [7, 6],
      ],
    );
    close(r.tracks[0].probability, sigmoid(3));
    close(r.tracks[0].logit, 3, 1e-9);
    close(r.tracks[1].logit, -4, 1e-9);
    close(r.probability, sigmoid(3));
    assert.equal(r.verdict, 'FAKE');
  });

  it('mean-logit on the same scores: (9 - 24) / 9 -> REAL', () => {
    const r = aggregateVideo(scores, getStrategy('mean-logit'), band);
    close(r.probability, sigmoid(-15 / 9));
    assert.equal(r.verdict, 'REAL');
  });

  it('confident pools all tracks', () => {
    const frames: FrameScore[] = [
      ...Array.from({ length: 12 }, (_, f) => ({ frameIndex: f, trackId: 0, logit: logit(0.9) })),
      ...Array.from({ length: 8 }, (_, f) => ({ frameIndex: f, trackId: 1, logit: logit(0.5) })),
    ];
    const r = aggregateVideo(frames, 'confident', band);
    close(r.probability, 0.9, 1e-12);
    close(r.tracks[1].probability, 0.5, 1e-12);
    assert.equal(r.verdict, 'FAKE');
  });

  it('a probability in the band is UNCERTAIN', () => {
    const r = aggregateVideo([{ frameIndex: 0, trackId: 0, logit: 0 }], 'mean-logit', band);
    assert.equal(r.probability, 0.5);
    assert.equal(r.verdict, 'UNCERTAIN');
  });

  it('unknown strategy names are rejected', () => {
    assert.throws(() => aggregateVideo(scores, 'vote' as never, band), InvalidOptionError);
  });
});
