/** Core data types that flow between the stages (media -> faces -> models -> aggregate). */

/** One decoded video frame (or a still image), packed RGB, 3 bytes per pixel, row-major, top-down. */
export interface Frame {
  /** 0-based index of the frame in the source video (0 for images). */
  index: number;
  /** Presentation time in milliseconds. */
  timeMs: number;
  width: number;
  height: number;
  rgb: Buffer;
}

/** Axis-aligned box in pixels of the frame: top-left corner plus size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Point = [number, number];

/**
 * BlazeFace keypoints, in the model's order: [0] eye on the image left, [1] eye on the image right,
 * [2] nose tip, [3] mouth centre, [4] ear on the image left, [5] ear on the image right. Pixels of the frame.
 */
export type Keypoints = [Point, Point, Point, Point, Point, Point];

export interface FaceDetection {
  box: Box;
  keypoints: Keypoints;
  /** Detector confidence in [0, 1]. */
  score: number;
}

/** A detection linked to an identity across frames. */
export interface TrackedFace extends FaceDetection {
  frameIndex: number;
  timeMs: number;
  trackId: number;
}

/** A square face crop ready for a classifier (or for writing to disk). */
export interface FaceCrop {
  frameIndex: number;
  timeMs: number;
  trackId: number;
  /** Side of the square crop in pixels. */
  size: number;
  /** Packed RGB, size*size*3 bytes. */
  rgb: Buffer;
  /** Keypoints mapped into crop pixels. */
  keypoints: Keypoints;
  /** The detection this crop was cut from (frame pixels). */
  detection: FaceDetection;
}
