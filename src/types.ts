/** Core data types that flow between the stages (media -> faces -> models -> aggregate). */

import type { YuvMatrix } from './image/yuv.js';

/** Packed RGB, 3 bytes per pixel, row-major, top-down. */
export interface RgbImage {
  format: 'rgb24';
  width: number;
  height: number;
  data: Buffer;
}

/** Planar YUV 4:2:0, limited range, as ffmpeg's rawvideo `yuv420p` (see src/image/yuv.ts). */
export interface YuvImage {
  format: 'yuv420p';
  width: number;
  height: number;
  data: Buffer;
  matrix: YuvMatrix;
  /**
   * Byte offsets of the U and V planes when `data` holds more rows than this image (the decoder's
   * frame with the detector preview stacked below it). Default: right after the Y plane, then U.
   */
  chromaOffsets?: { u: number; v: number };
}

/** Pixels of a frame in whichever layout the decoder produced; src/image/warp.ts reads both. */
export type PixelImage = RgbImage | YuvImage;

/** One decoded video frame (or a still image). */
export interface Frame {
  /** 0-based index of the frame in the source video (0 for images). */
  index: number;
  /** Presentation time in milliseconds. */
  timeMs: number;
  width: number;
  height: number;
  /** Full-resolution pixels (videos: YUV straight from the decoder; images: RGB). */
  pixels: PixelImage;
  /**
   * The whole frame downscaled by the decoder to at most {@link PREVIEW_SIDE} px on its longer side,
   * for the face detector (ffmpeg scales it, much cheaper than Node). Absent for images and for videos
   * not bigger than a preview (the detector then reads the frame itself).
   */
  preview?: RgbImage;
  /**
   * A picture read scaled down (MediaInfo.readSize): picture pixels per frame pixel along each
   * axis (> 1). Detections in this frame's pixels times these are in the picture's own.
   */
  toPicture?: { x: number; y: number };
}

/** Longer side of a frame's preview: the face detector's input size. */
export const PREVIEW_SIDE = 256;

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
