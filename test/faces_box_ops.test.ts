import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxCenter, iou, weightedNms } from '../src/faces/box_ops.js';
import type { Box, FaceDetection, Keypoints, Point } from '../src/types.js';

const close = (a: number, b: number, eps = 1e-9, msg = '') => assert.ok(Math.abs(a - b) <= eps, `${msg} ${a} != ${b}`);

const box = (x: number, y: number, width: number, height = width): Box => ({ x, y, width, height });

/** Detection with keypoints laid out inside the box. */
function det(b: Box, score: number): FaceDetection {
  const at = (fx: number, fy: number): Point => [b.x + fx * b.width, b.y + fy * b.height];
  const keypoints: Keypoints = [at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.55), at(0.5, 0.75), at(0.05, 0.45), at(0.95, 0.45)];
  return { box: b, keypoints, score };
}

function closeDet(got: FaceDetection, want: FaceDetection, eps = 1e-9): void {
  close(got.score, want.score, 0, 'score');
  close(got.box.x, want.box.x, eps, 'x');
  close(got.box.y, want.box.y, eps, 'y');
  close(got.box.width, want.box.width, eps, 'width');
  close(got.box.height, want.box.height, eps, 'height');
  assert.equal(got.keypoints.length, 6);
  got.keypoints.forEach((p, k) => {
    close(p[0], want.keypoints[k][0], eps, `kp ${k} x`);
    close(p[1], want.keypoints[k][1], eps, `kp ${k} y`);
  });
}

describe('iou', () => {
  it('identical boxes: 1', () => {
    assert.equal(iou(box(3, 4, 10, 20), box(3, 4, 10, 20)), 1);
  });

  it('disjoint and edge-touching boxes: 0', () => {
    assert.equal(iou(box(0, 0, 10), box(20, 20, 10)), 0);
    assert.equal(iou(box(0, 0, 10), box(10, 0, 10)), 0); // share an edge only
    assert.equal(iou(box(0, 0, 10), box(0, 50, 10)), 0); // x overlaps, y does not
  });

  it('half-shifted boxes: intersection 50, union 150 -> 1/3', () => {
    assert.equal(iou(box(0, 0, 10), box(5, 0, 10)), 1 / 3);
    assert.equal(iou(box(5, 0, 10), box(0, 0, 10)), 1 / 3); // symmetric
  });

  it('diagonal quarter overlap: 25 / (100 + 100 - 25) = 1/7', () => {
    close(iou(box(0, 0, 10), box(5, 5, 10)), 25 / 175);
  });

  it('a box inside another: inner area / outer area', () => {
    assert.equal(iou(box(0, 0, 10), box(2, 2, 5)), 0.25);
  });

  it('different shapes: 20x10 vs 10x20 crossing at a 10x10 square -> 100 / 300', () => {
    close(iou(box(0, 5, 20, 10), box(5, 0, 10, 20)), 1 / 3);
  });

  it('zero-area boxes give 0, not NaN', () => {
    assert.equal(iou(box(0, 0, 0), box(0, 0, 0)), 0);
    assert.equal(iou(box(0, 0, 0), box(0, 0, 10)), 0);
  });
});

describe('boxCenter', () => {
  it('is the middle of the box', () => {
    assert.deepEqual(boxCenter(box(10, 20, 30, 40)), [25, 40]);
  });
});

describe('weightedNms', () => {
  it('returns [] for no detections', () => {
    assert.deepEqual(weightedNms([], 0.3), []);
  });

  it('a single detection passes through unchanged', () => {
    const d = det(box(10, 20, 30, 40), 0.7);
    const out = weightedNms([d], 0.3);
    assert.equal(out.length, 1);
    closeDet(out[0], d);
  });

  it('merges overlapping detections into the score-weighted mean and keeps the max score', () => {
    // A (0, 0, 100x100) score 0.9; B (10, 0, 120x100) score 0.6: IoU = 9000 / 13000 = 0.69
    const a = det(box(0, 0, 100, 100), 0.9);
    const b = det(box(10, 0, 120, 100), 0.6);
    const out = weightedNms([b, a], 0.3);
    assert.equal(out.length, 1);
    // x = (0*0.9 + 10*0.6) / 1.5 = 4; width = (100*0.9 + 120*0.6) / 1.5 = 108; y, height unchanged
    const m = out[0];
    assert.equal(m.score, 0.9);
    close(m.box.x, 4);
    close(m.box.y, 0);
    close(m.box.width, 108);
    close(m.box.height, 100);
    // keypoints: weighted means, e.g. left eye x = (30*0.9 + 46*0.6) / 1.5 = 36.4
    close(m.keypoints[0][0], 36.4);
    close(m.keypoints[0][1], 40);
    m.keypoints.forEach((p, k) => {
      close(p[0], (a.keypoints[k][0] * 0.9 + b.keypoints[k][0] * 0.6) / 1.5, 1e-9, `kp ${k} x`);
      close(p[1], (a.keypoints[k][1] * 0.9 + b.keypoints[k][1] * 0.6) / 1.5, 1e-9, `kp ${k} y`);
    });
  });

  it('three overlapping detections: weights are the scores', () => {
    const ds = [det(box(0, 0, 100), 0.5), det(box(4, 8, 100), 0.3), det(box(-6, 2, 100), 0.2)];
    const out = weightedNms(ds, 0.5);
    assert.equal(out.length, 1);
    // x = (0*0.5 + 4*0.3 - 6*0.2) / 1.0 = 0; y = (0 + 2.4 + 0.4) / 1.0 = 2.8
    close(out[0].box.x, 0);
    close(out[0].box.y, 2.8);
    assert.equal(out[0].score, 0.5);
  });

  it('keeps separate faces separate and sorts the results by score', () => {
    const left = det(box(0, 0, 100), 0.8);
    const leftDup = det(box(6, 0, 100), 0.4);
    const right = det(box(500, 0, 100), 0.95);
    const low = det(box(0, 400, 50), 0.3);
    const out = weightedNms([low, leftDup, right, left], 0.3);
    assert.equal(out.length, 3);
    assert.deepEqual(out.map((d) => d.score), [0.95, 0.8, 0.3]);
    closeDet(out[0], right); // alone: unchanged
    closeDet(out[2], low);
    close(out[1].box.x, (6 * 0.4) / 1.2); // 2
  });

  it('suppression is not transitive: a detection overlapping only an absorbed one survives', () => {
    // A-B and B-C overlap (IoU 60/140 = 0.43) but A-C does not (20/180 = 0.11)
    const a = det(box(0, 0, 100), 0.9), b = det(box(40, 0, 100), 0.8), c = det(box(80, 0, 100), 0.7);
    const out = weightedNms([c, b, a], 0.3);
    assert.equal(out.length, 2);
    assert.equal(out[0].score, 0.9);
    close(out[0].box.x, (40 * 0.8) / 1.7);
    closeDet(out[1], c);
  });

  it('IoU exactly at the threshold merges', () => {
    const a = det(box(0, 0, 10), 0.6), b = det(box(5, 0, 10), 0.4); // IoU exactly 1/3
    assert.equal(weightedNms([a, b], 1 / 3).length, 1);
    assert.equal(weightedNms([a, b], 0.34).length, 2);
  });

  it('does not mutate its input', () => {
    const ds = [det(box(6, 0, 100), 0.4), det(box(0, 0, 100), 0.8)];
    const copy = JSON.parse(JSON.stringify(ds));
    weightedNms(ds, 0.3);
    assert.deepEqual(ds, copy);
  });
});
