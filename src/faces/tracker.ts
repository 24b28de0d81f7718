/**
 * Links per-frame detections into identities. Frames are sampled sparsely (32 of a few hundred), so a
 * face can move a lot between samples: a detection joins a track when the boxes overlap OR the
 * keypoints are close relative to the face size, best pairs first.
 */
import type { FaceDetection, TrackedFace } from '../types.js';
import { iou } from './box_ops.js';

export interface TrackerOptions {
  /** IoU at or above which a detection may continue a track. Default 0.2. */
  minIoU: number;
  /** Mean keypoint distance, as a fraction of the face size, under which a detection may continue a track. Default 0.6. */
  maxKeypointDistance: number;
  /** Sampled frames a track may go unseen before it ends. Default 8. */
  maxGap: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = { minIoU: 0.2, maxKeypointDistance: 0.6, maxGap: 8 };

/** Mean distance between corresponding keypoints divided by the larger face side. */
export function keypointDistance(a: FaceDetection, b: FaceDetection): number {
  let sum = 0;
  for (let k = 0; k < a.keypoints.length; k++) {
    sum += Math.hypot(a.keypoints[k][0] - b.keypoints[k][0], a.keypoints[k][1] - b.keypoints[k][1]);
  }
  const size = Math.max(a.box.width, a.box.height, b.box.width, b.box.height, 1e-6);
  return sum / a.keypoints.length / size;
}

interface ActiveTrack {
  id: number;
  last: FaceDetection;
  lastSample: number;
}

/** Per sampled frame, its index/time and detections, in decode order. */
export interface FrameDetections {
  frameIndex: number;
  timeMs: number;
  detections: FaceDetection[];
}

/**
 * Assigns a track id to every detection. Ids are dense (0, 1, 2, ...) in order of first appearance.
 * Returns one TrackedFace per input detection, in frame order.
 */
export function trackFaces(frames: FrameDetections[], options: Partial<TrackerOptions> = {}): TrackedFace[] {
  const opt = { ...DEFAULT_TRACKER_OPTIONS, ...options };
  const active: ActiveTrack[] = [];
  const out: TrackedFace[] = [];
  let nextId = 0;
  frames.forEach((f, sample) => {
    // drop tracks unseen for too long (sampled frames missed since the last sighting: sample - lastSample - 1)
    for (let i = active.length - 1; i >= 0; i--) if (sample - active[i].lastSample - 1 > opt.maxGap) active.splice(i, 1);
    const pairs: { t: number; d: number; cost: number }[] = [];
    active.forEach((track, t) => {
      f.detections.forEach((det, d) => {
        const overlap = iou(track.last.box, det.box);
        const kd = keypointDistance(track.last, det);
        if (overlap >= opt.minIoU || kd <= opt.maxKeypointDistance) pairs.push({ t, d, cost: kd - overlap });
      });
    });
    pairs.sort((a, b) => a.cost - b.cost);
    const trackOf = new Array<number>(f.detections.length).fill(-1);
    const usedTracks = new Set<number>();
    for (const p of pairs) {
      if (usedTracks.has(p.t) || trackOf[p.d] !== -1) continue;
      usedTracks.add(p.t);
      trackOf[p.d] = p.t;
    }
    f.detections.forEach((det, d) => {
      let track: ActiveTrack;
      if (trackOf[d] >= 0) track = active[trackOf[d]];
      else {
        track = { id: nextId++, last: det, lastSample: sample };
        active.push(track);
      }
      track.last = det;
      track.lastSample = sample;
      out.push({ ...det, frameIndex: f.frameIndex, timeMs: f.timeMs, trackId: track.id });
    });
  });
  return out;
}
