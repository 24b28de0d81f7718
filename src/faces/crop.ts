/**
 * Face crop policies. Each computes the map from crop pixels to frame pixels; one warp then cuts the
 * crop, so training crops (written by `unmask extract`) and scan crops are identical.
 * - `scale`: the square of the box's longer side, centred on the box (ICPR2020).
 * - `margin`: the box grown by `margin` (default 0.3) of its size on each side, fitted isotropically
 *   into the square and padded (the DFDC winner's +30% crops).
 * - `align`: similarity transform putting both eyes and the mouth on fixed template positions (FTCN-style).
 */
import type { Affine } from '../image/affine.js';
import { applyAffine, invertAffine, scaleTranslate, similarityFromPoints } from '../image/affine.js';
import { warpAffine } from '../image/warp.js';
import type { FaceCrop, FaceDetection, Frame, Keypoints, Point } from '../types.js';
import type { CropPolicy } from '../models/manifest.js';

export interface CropOptions {
  policy: CropPolicy;
  /** Output side in pixels. */
  size: number;
  /** Border per side as a fraction of the box side, for `margin`. Default 0.3. */
  margin: number;
}

export const DEFAULT_CROP_OPTIONS: CropOptions = { policy: 'margin', size: 256, margin: 0.3 };

/**
 * Template of the `align` policy, in fractions of the crop side: eye on the image left, eye on the
 * image right, mouth centre. Leaves room around the face comparable to a 30% margin crop.
 */
export const ALIGN_TEMPLATE: [Point, Point, Point] = [
  [0.37, 0.42],
  [0.63, 0.42],
  [0.5, 0.66],
];

/** Map from crop pixels to frame pixels for one detection. */
export function cropMap(det: FaceDetection, opt: CropOptions): Affine {
  const { box } = det;
  switch (opt.policy) {
    case 'scale': {
      const side = Math.max(box.width, box.height);
      const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
      return scaleTranslate(opt.size / side, cx - side / 2, cy - side / 2);
    }
    case 'margin': {
      const w = box.width * (1 + 2 * opt.margin), h = box.height * (1 + 2 * opt.margin);
      const s = opt.size / Math.max(w, h);
      return scaleTranslate(s, box.x - box.width * opt.margin, box.y - box.height * opt.margin, (opt.size - w * s) / 2, (opt.size - h * s) / 2);
    }
    case 'align': {
      const k = det.keypoints;
      const template = ALIGN_TEMPLATE.map(([x, y]) => [x * opt.size, y * opt.size] as Point);
      // similarity crop -> frame, fitted from template points to the detected ones
      return similarityFromPoints(template, [k[0], k[1], k[3]]);
    }
  }
}

/** Cuts the crop of one detection out of a frame. */
export function cropFace(frame: Frame, det: FaceDetection, opt: CropOptions): { rgb: Buffer; keypoints: Keypoints } {
  const map = cropMap(det, opt);
  const rgb = warpAffine(frame.pixels, map, opt.size, opt.size);
  const toCrop = invertAffine(map);
  const keypoints = det.keypoints.map((p) => applyAffine(toCrop, p)) as Keypoints;
  return { rgb, keypoints };
}

/** Builds a FaceCrop record (track id filled in later by the tracker). */
export function makeFaceCrop(frame: Frame, det: FaceDetection, opt: CropOptions, trackId = -1): FaceCrop {
  const { rgb, keypoints } = cropFace(frame, det, opt);
  return { frameIndex: frame.index, timeMs: frame.timeMs, trackId, size: opt.size, rgb, keypoints, detection: det };
}
