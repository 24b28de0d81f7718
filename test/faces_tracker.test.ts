import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iou } from '../src/faces/box_ops.js';
import { DEFAULT_TRACKER_OPTIONS, keypointDistance, trackFaces, type FrameDetections } from '../src/faces/tracker.js';
import type { FaceDetection, Keypoints, Point, TrackedFace } from '../src/types.js';

/** A face: box at (x, y), size w x h, six keypoints laid out plausibly inside it. */
function face(x: number, y: number, w = 100, h = w, score = 0.9): FaceDetection {
  const at = (fx: number, fy: number): Point => [x + fx * w, y + fy * h];
  const keypoints: Keypoints = [at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.55), at(0.5, 0.75), at(0.05, 0.45), at(0.95, 0.45)];
  return { box: { x, y, width: w, height: h }, keypoints, score };
}

const frame = (i: number, detections: FaceDetection[]): FrameDetections => ({ frameIndex: i * 10, timeMs: i * 400, detections });

/** Track id of the output row built from this exact detection object. */
function idOf(out: TrackedFace[], frameIndex: number, d: FaceDetection): number {
  const row = out.find((t) => t.frameIndex === frameIndex && t.box === d.box);
  assert.ok(row, `no output for detection at frame ${frameIndex}`);
  return row.trackId;
}

const distinctIds = (out: TrackedFace[]) => [...new Set(out.map((t) => t.trackId))].sort((a, b) => a - b);

describe('keypointDistance', () => {
  it('is the mean keypoint displacement over the larger face side', () => {
    // every keypoint moves by (30, 40): 50 px; side 100 -> 0.5
    const a = face(0, 0), b = face(30, 40);
    assert.ok(Math.abs(keypointDistance(a, b) - 0.5) < 1e-12);
    assert.ok(Math.abs(keypointDistance(b, a) - 0.5) < 1e-12);
    assert.equal(keypointDistance(a, a), 0);
    // a larger second face sets the scale: same keypoints, box side 200 -> 0
    const big = { ...face(0, 0, 200), keypoints: a.keypoints };
    assert.equal(keypointDistance(a, big), 0);
    const moved = { ...face(0, 0, 200), keypoints: b.keypoints };
    assert.ok(Math.abs(keypointDistance(a, moved) - 0.25) < 1e-12);
  });

  it('default options', () => {
    assert.deepEqual(DEFAULT_TRACKER_OPTIONS, { minIoU: 0.2, maxKeypointDistance: 0.6, maxGap: 8 });
  });
});

describe('trackFaces', () => {
  it('returns nothing for no frames or no detections', () => {
    assert.deepEqual(trackFaces([]), []);
    assert.deepEqual(trackFaces([frame(0, []), frame(1, [])]), []);
  });

  it('two faces far apart moving slowly over 10 frames keep two ids, whatever the detection order', () => {
    const frames: FrameDetections[] = [];
    const as: FaceDetection[] = [], bs: FaceDetection[] = [];
    for (let i = 0; i < 10; i++) {
      const a = face(100 + 5 * i, 100 + 2 * i);
      const b = face(800 - 4 * i, 120, 90);
      as.push(a);
      bs.push(b);
      // the detector's order changes from frame to frame
      frames.push(frame(i, i % 3 === 1 ? [b, a] : [a, b]));
    }
    const out = trackFaces(frames);
    assert.equal(out.length, 20);
    assert.deepEqual(distinctIds(out), [0, 1]);
    for (let i = 0; i < 10; i++) {
      assert.equal(idOf(out, i * 10, as[i]), 0, `frame ${i} face A`);
      assert.equal(idOf(out, i * 10, bs[i]), 1, `frame ${i} face B`);
    }
  });

  it('carries the detection fields, frame index and time into each output, in frame order', () => {
    const a = face(10, 20, 50, 60, 0.75);
    const out = trackFaces([frame(0, [a]), { frameIndex: 33, timeMs: 1320, detections: [face(12, 20, 50, 60, 0.5)] }]);
    assert.equal(out.length, 2);
    assert.deepEqual(out[0], { ...a, frameIndex: 0, timeMs: 0, trackId: 0 });
    assert.equal(out[1].frameIndex, 33);
    assert.equal(out[1].timeMs, 1320);
    assert.equal(out[1].score, 0.5);
    assert.equal(out[1].trackId, 0);
  });

  it('a face moving far between sparse samples still links when its keypoints stay within the threshold', () => {
    // The subject walks towards the camera: the box grows from 100 to 240 px and shifts, so the boxes
    // barely overlap, but relative to the face size the keypoints moved little.
    const a = face(0, 0, 100);
    const b = face(-70, -70, 240);
    assert.ok(iou(a.box, b.box) < DEFAULT_TRACKER_OPTIONS.minIoU, `precondition iou ${iou(a.box, b.box)}`);
    assert.ok(keypointDistance(a, b) <= DEFAULT_TRACKER_OPTIONS.maxKeypointDistance, `precondition kd ${keypointDistance(a, b)}`);
    const out = trackFaces([frame(0, [a]), frame(1, [b])]);
    assert.deepEqual(out.map((t) => t.trackId), [0, 0]);
  });

  it('a jump of 1.2 face widths (no box overlap) links only when maxKeypointDistance allows it', () => {
    const a = face(0, 0), b = face(120, 0);
    assert.equal(iou(a.box, b.box), 0);
    assert.ok(Math.abs(keypointDistance(a, b) - 1.2) < 1e-12);
    assert.deepEqual(trackFaces([frame(0, [a]), frame(1, [b])]).map((t) => t.trackId), [0, 1]);
    assert.deepEqual(trackFaces([frame(0, [a]), frame(1, [b])], { maxKeypointDistance: 1.5 }).map((t) => t.trackId), [0, 0]);
  });

  it('box overlap alone links, even when the keypoints disagree', () => {
    // same box, keypoints scrambled far away (kd > 0.6) but IoU 1
    const a = face(0, 0);
    const b: FaceDetection = { ...face(0, 0), keypoints: face(300, 300).keypoints };
    assert.ok(keypointDistance(a, b) > 0.6);
    assert.deepEqual(trackFaces([frame(0, [a]), frame(1, [b])]).map((t) => t.trackId), [0, 0]);
    // ...unless IoU is required to be above 1
    assert.deepEqual(trackFaces([frame(0, [a]), frame(1, [b])], { minIoU: 1.01 }).map((t) => t.trackId), [0, 1]);
  });

  it('a face unseen for more than maxGap sampled frames gets a new id when it returns', () => {
    const seq = (returnAt: number, maxGap?: number) => {
      const frames: FrameDetections[] = [];
      for (let i = 0; i <= returnAt; i++) frames.push(frame(i, i === 0 || i === returnAt ? [face(50, 50)] : []));
      return trackFaces(frames, maxGap === undefined ? {} : { maxGap }).map((t) => t.trackId);
    };
    // default maxGap 8: last seen at sample 0; missing from samples 1..8 (8 unseen = maxGap) it
    // continues at sample 9; missing from 1..9 (9 unseen) it is a new identity at sample 10
    assert.deepEqual(seq(8), [0, 0]);
    assert.deepEqual(seq(9), [0, 0]);
    assert.deepEqual(seq(10), [0, 1]);
    assert.deepEqual(seq(20), [0, 1]);
    assert.deepEqual(seq(3, 2), [0, 0]); // 2 unseen
    assert.deepEqual(seq(4, 2), [0, 1]); // 3 unseen
    // maxGap 0: consecutive samples continue, a single missed sample ends the track
    assert.deepEqual(seq(1, 0), [0, 0]);
    assert.deepEqual(seq(2, 0), [0, 1]);
  });

  it('a gap is counted in sampled frames, not in frame indices', () => {
    // frameIndex jumps by 1000 but the samples are consecutive
    const out = trackFaces([
      { frameIndex: 0, timeMs: 0, detections: [face(50, 50)] },
      { frameIndex: 1000, timeMs: 40000, detections: [face(52, 50)] },
    ]);
    assert.deepEqual(out.map((t) => t.trackId), [0, 0]);
  });

  it('a new person entering at frame 5 gets a new id; the first keeps its own', () => {
    const frames: FrameDetections[] = [];
    for (let i = 0; i < 10; i++) {
      const dets = [face(100 + 3 * i, 100)];
      if (i >= 5) dets.unshift(face(600 + 3 * i, 100)); // listed first, still the newcomer
      frames.push(frame(i, dets));
    }
    const out = trackFaces(frames);
    assert.equal(out.length, 15);
    for (const t of out) assert.equal(t.trackId, t.box.x < 400 ? 0 : 1, `frame ${t.frameIndex} x ${t.box.x}`);
    assert.deepEqual(distinctIds(out), [0, 1]);
    // output stays in frame order
    for (let i = 1; i < out.length; i++) assert.ok(out[i].frameIndex >= out[i - 1].frameIndex);
  });

  it('ids are dense in order of first appearance and never reused', () => {
    // A from frame 0, B appears at frame 2, C at frame 4; A leaves after frame 0 for good;
    // D appears far away at frame 15 when A's track is long dead.
    const frames: FrameDetections[] = [];
    for (let i = 0; i < 16; i++) {
      const dets: FaceDetection[] = [];
      if (i === 0) dets.push(face(0, 0));
      if (i >= 2) dets.push(face(300, 0));
      if (i >= 4) dets.unshift(face(600, 0));
      if (i === 15) dets.push(face(0, 0));
      frames.push(frame(i, dets));
    }
    const out = trackFaces(frames);
    const firstSeen = new Map<number, number>();
    for (const t of out) if (!firstSeen.has(t.trackId)) firstSeen.set(t.trackId, t.frameIndex);
    assert.deepEqual([...firstSeen.keys()], [0, 1, 2, 3]);
    assert.deepEqual([...firstSeen.values()], [0, 20, 40, 150]);
    for (const t of out) {
      if (t.box.x === 300) assert.equal(t.trackId, 1);
      if (t.box.x === 600) assert.equal(t.trackId, 2);
    }
    // the face at (0, 0) in frame 15 is a new identity (A's track ended once it missed more than 8 samples)
    assert.equal(out[out.length - 1].trackId, 3);
  });

  it('two faces on the same frame far apart both start new tracks, in detection order', () => {
    const out = trackFaces([frame(0, [face(500, 0), face(0, 0)])]);
    assert.deepEqual(out.map((t) => [t.box.x, t.trackId]), [[500, 0], [0, 1]]);
  });

  it('two faces crossing paths (swapping sides in small steps) keep their ids', () => {
    // A walks right along y = 0, B walks left along y = 30; they pass each other (boxes overlap
    // heavily around frame 10), each moving 20 px per sample.
    const frames: FrameDetections[] = [];
    const as: FaceDetection[] = [], bs: FaceDetection[] = [];
    for (let i = 0; i < 21; i++) {
      const a = face(100 + 20 * i, 0);
      const b = face(500 - 20 * i, 30);
      as.push(a);
      bs.push(b);
      frames.push(frame(i, i % 2 ? [a, b] : [b, a]));
    }
    // they really do cross: same x at frame 10, swapped sides at the end
    assert.equal(as[10].box.x, bs[10].box.x);
    assert.ok(as[20].box.x > bs[20].box.x && as[0].box.x < bs[0].box.x);
    const out = trackFaces(frames);
    assert.deepEqual(distinctIds(out), [0, 1]);
    const idA = idOf(out, 0, as[0]), idB = idOf(out, 0, bs[0]);
    assert.notEqual(idA, idB);
    for (let i = 0; i < 21; i++) {
      assert.equal(idOf(out, i * 10, as[i]), idA, `frame ${i} face A`);
      assert.equal(idOf(out, i * 10, bs[i]), idB, `frame ${i} face B`);
    }
  });

  it('one track never takes two detections of the same frame', () => {
    // two detections both overlapping the single existing track: the closer one continues it
    const a = face(0, 0);
    const near = face(5, 0), far = face(40, 0);
    const out = trackFaces([frame(0, [a]), frame(1, [far, near])]);
    assert.equal(idOf(out, 10, near), 0);
    assert.equal(idOf(out, 10, far), 1);
  });
});
