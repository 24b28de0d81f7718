/** Box geometry shared by detection merging and tracking. */
import type { Box, FaceDetection, Keypoints } from '../types.js';

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width), y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export function boxCenter(b: Box): [number, number] {
  return [b.x + b.width / 2, b.y + b.height / 2];
}

/**
 * MediaPipe-style weighted non-maximum suppression: each kept detection is the score-weighted mean
 * of the detections overlapping it (steadier boxes and keypoints than hard NMS), with the highest score.
 */
export function weightedNms(dets: FaceDetection[], iouThreshold: number): FaceDetection[] {
  const rest = [...dets].sort((a, b) => b.score - a.score);
  const out: FaceDetection[] = [];
  while (rest.length) {
    const top = rest[0];
    const group: FaceDetection[] = [];
    for (let i = rest.length - 1; i >= 0; i--) {
      if (iou(top.box, rest[i].box) >= iouThreshold) group.push(...rest.splice(i, 1));
    }
    const wsum = group.reduce((s, d) => s + d.score, 0);
    const avg = (f: (d: FaceDetection) => number) => group.reduce((s, d) => s + f(d) * d.score, 0) / wsum;
    const keypoints = top.keypoints.map((_, k) => [avg((d) => d.keypoints[k][0]), avg((d) => d.keypoints[k][1])]) as Keypoints;
    out.push({
      box: { x: avg((d) => d.box.x), y: avg((d) => d.box.y), width: avg((d) => d.box.width), height: avg((d) => d.box.height) },
      keypoints,
      score: top.score,
    });
  }
  return out;
}

/** `d` with its box and keypoints scaled by `s.x` across and `s.y` down (e.g. to another resolution of the same picture). */
export function scaleDetection(d: FaceDetection, s: { x: number; y: number }): FaceDetection {
  const { x, y, width, height } = d.box;
  return {
    box: { x: x * s.x, y: y * s.y, width: width * s.x, height: height * s.y },
    keypoints: d.keypoints.map(([px, py]) => [px * s.x, py * s.y]) as Keypoints,
    score: d.score,
  };
}
