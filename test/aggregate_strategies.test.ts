/** Hand-worked examples for each aggregation rule. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROB_EPS, clipProb, logit, mean, sigmoid } from '../src/aggregate/prob.js';
import {
  STRATEGIES,
  STRATEGY_NAMES,
  confidentStrategy,
  getStrategy,
  identityVideo,
  meanLogitTrack,
  meanLogitVideo,
} from '../src/aggregate/strategies.js';
import { InvalidOptionError } from '../src/util/errors.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);
const rep = (v: number, n: number) => new Array<number>(n).fill(v);

describe('safe sigmoid / logit', () => {
  it('matches the textbook values', () => {
    close(sigmoid(0), 0.5);
    close(sigmoid(2), 0.8807970779778823);
    close(sigmoid(-2), 0.11920292202211755);
    close(logit(0.5), 0);
    close(logit(0.8807970779778823), 2, 1e-9);
  });

  it('clips probabilities to [1e-6, 1 - 1e-6] so nothing is infinite or NaN', () => {
    assert.equal(sigmoid(1000), 1 - PROB_EPS);
    assert.equal(sigmoid(-1000), PROB_EPS);
    assert.equal(sigmoid(Infinity), 1 - PROB_EPS);
    assert.equal(sigmoid(-Infinity), PROB_EPS);
    const lmax = Math.log((1 - 1e-6) / 1e-6); // 13.815509...
    close(logit(1), lmax, 1e-9);
    close(logit(0), -lmax, 1e-9);
    close(logit(-0.5), -lmax, 1e-9);
    assert.equal(clipProb(0.3), 0.3);
  });

  it('mean of an empty list throws', () => {
    assert.throws(() => mean([]), RangeError);
    assert.equal(mean([1, 2, 6]), 3);
  });
});

describe('mean-logit (ICPR 2020)', () => {
  it('track = sigmoid(mean logit)', () => {
    // mean(0, 2, 4) = 2
    close(meanLogitTrack([0, 2, 4]), sigmoid(2));
  });

  it('video = frame-weighted mean of the track logits', () => {
    // track A: 3 frames, mean 2; track B: 1 frame, mean -2 -> (3*2 + 1*(-2)) / 4 = 1
    close(meanLogitVideo([[0, 2, 4], [-2]]), sigmoid(1));
    // not the unweighted mean of track means, which would be 0
    assert.notEqual(meanLogitVideo([[0, 2, 4], [-2]]), 0.5);
  });
});

describe('confident (DFDC winner)', () => {
  it('n = 5: the >11 rule cannot fire, so all-fake frames give the plain mean', () => {
    close(confidentStrategy(rep(0.9, 5)), 0.9);
    // 4 x 0.9 + 0.1: mean = 3.7 / 5 = 0.74
    close(confidentStrategy([0.9, 0.9, 0.9, 0.9, 0.1]), 0.74);
  });

  it('many confident fakes: mean of the frames above t', () => {
    // n = 32: 20 x 0.95 and 12 x 0.1; 20 > 32/2.5 = 12.8 and 20 > 11 -> 0.95
    close(confidentStrategy([...rep(0.95, 20), ...rep(0.1, 12)]), 0.95);
  });

  it('fakes exactly n / 2.5 is not enough', () => {
    // n = 30: n/2.5 = 12. 12 x 0.9 + 18 x 0.5: 12 > 12 fails -> mean = (10.8 + 9) / 30 = 0.66
    close(confidentStrategy([...rep(0.9, 12), ...rep(0.5, 18)]), 0.66);
    // 13 x 0.9 + 17 x 0.5: 13 > 12 and 13 > 11 -> 0.9
    close(confidentStrategy([...rep(0.9, 13), ...rep(0.5, 17)]), 0.9);
  });

  it('fakes exactly 11 is not enough', () => {
    // n = 20: 11 x 0.9 + 9 x 0.3: 11 > 8 but not > 11 -> mean = (9.9 + 2.7) / 20 = 0.63
    close(confidentStrategy([...rep(0.9, 11), ...rep(0.3, 9)]), 0.63);
    // 12 x 0.9 + 8 x 0.3 -> 0.9
    close(confidentStrategy([...rep(0.9, 12), ...rep(0.3, 8)]), 0.9);
  });

  it('p exactly at t does not count as a confident fake', () => {
    // 20 x 0.8: none is > 0.8, none < 0.2 -> mean 0.8
    close(confidentStrategy(rep(0.8, 20)), 0.8);
    // 15 x 0.8 + 15 x 0.81: fakes = 15 > 12, > 11 -> mean of the 0.81s
    close(confidentStrategy([...rep(0.8, 15), ...rep(0.81, 15)]), 0.81);
  });

  it('mostly confident reals: mean of the frames below 0.2', () => {
    // n = 20: 19 x 0.1 + 0.9: 19 > 18 -> 0.1 (the plain mean would be 0.14)
    close(confidentStrategy([...rep(0.1, 19), 0.9]), 0.1);
    // all below 0.2 -> their mean
    close(confidentStrategy([0.1, 0.05, 0.15, 0.1]), 0.1);
  });

  it('count(p < 0.2) exactly 0.9 n is not enough; p exactly 0.2 is not below', () => {
    // n = 10: 9 x 0.1 + 0.5: 9 > 9 fails -> mean = 1.4 / 10 = 0.14
    close(confidentStrategy([...rep(0.1, 9), 0.5]), 0.14);
    // n = 10: 9 x 0.1 + 0.2: 0.2 is not < 0.2 -> mean = 1.1 / 10 = 0.11
    close(confidentStrategy([...rep(0.1, 9), 0.2]), 0.11);
  });

  it('custom threshold', () => {
    // t = 0.6: 12 x 0.7 + 8 x 0.5 -> 12 > 8 and > 11 -> 0.7
    close(confidentStrategy([...rep(0.7, 12), ...rep(0.5, 8)], 0.6), 0.7);
  });

  it('strategy form works on logits; the video pools all tracks', () => {
    const s = getStrategy('confident');
    const fake = rep(logit(0.9), 12);
    const real = rep(logit(0.5), 8);
    close(s.trackProbability(fake), 0.9, 1e-12);
    // Track-level: each track alone hits the n <= 11 / mean branches ...
    close(s.trackProbability(real), 0.5, 1e-12);
    // ... pooled: 12 > 20/2.5 = 8 and 12 > 11 -> 0.9
    close(s.videoProbability([fake, real]), 0.9, 1e-12);
  });
});

describe('identity (most fake person)', () => {
  it('a swapped person among real ones makes the video fake; mean-logit dilutes it', () => {
    const swapped = rep(3, 3); // sigmoid(3) = 0.9526
    const real = rep(-4, 6);
    close(identityVideo([swapped, real]), sigmoid(3));
    // mean-logit: (9 - 24) / 9 = -1.667 -> 0.159
    close(meanLogitVideo([swapped, real]), sigmoid(-15 / 9));
  });

  it('tracks shorter than minTrackFrames are skipped', () => {
    // [5, 5] has 2 < 3 frames -> only [-1, -1, -1] counts
    close(identityVideo([[5, 5], [-1, -1, -1]]), sigmoid(-1));
    // with minTrackFrames 2 the short track counts
    close(identityVideo([[5, 5], [-1, -1, -1]], 2), sigmoid(5));
  });

  it('if no track is long enough, all tracks are used', () => {
    close(identityVideo([[5, 5], [-1]]), sigmoid(5));
  });

  it('track probability = sigmoid(mean logit)', () => {
    close(getStrategy('identity').trackProbability([1, 3]), sigmoid(2));
  });
});

describe('strategy registry', () => {
  it('lists the three strategies', () => {
    assert.deepEqual([...STRATEGY_NAMES].sort(), ['confident', 'identity', 'mean-logit']);
    for (const name of STRATEGY_NAMES) {
      const s = STRATEGIES[name]();
      assert.equal(s.name, name);
      assert.ok(s.description.length > 0);
    }
  });

  it('rejects unknown names and bad options', () => {
    assert.throws(() => getStrategy('median'), (e: unknown) => e instanceof InvalidOptionError && /mean-logit/.test(e.message));
    assert.throws(() => getStrategy('toString'), InvalidOptionError);
    assert.throws(() => getStrategy('confident', { confidentThreshold: 1.5 }), InvalidOptionError);
    assert.throws(() => getStrategy('identity', { minTrackFrames: 0 }), InvalidOptionError);
  });

  it('all strategies reject empty input and non-finite logits', () => {
    for (const name of STRATEGY_NAMES) {
      const s = getStrategy(name);
      assert.throws(() => s.trackProbability([]), RangeError, name);
      assert.throws(() => s.trackProbability([0, NaN]), RangeError, name);
      assert.throws(() => s.videoProbability([]), RangeError, name);
      assert.throws(() => s.videoProbability([[1], []]), RangeError, name);
    }
  });

  it('outputs stay in [1e-6, 1 - 1e-6] for extreme logits', () => {
    for (const name of STRATEGY_NAMES) {
      const s = getStrategy(name);
      const hi = s.videoProbability([rep(500, 20)]);
      const lo = s.videoProbability([rep(-500, 20)]);
      assert.ok(hi <= 1 - PROB_EPS && lo >= PROB_EPS, `${name}: ${lo}, ${hi}`);
      close(hi, 1 - PROB_EPS, 1e-15);
      close(lo, PROB_EPS, 1e-15);
    }
  });
});
