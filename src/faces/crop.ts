/**
 * Face crop policies. Each computes the map from crop pixels to frame pixels; one warp then cuts the
 * crop, so training crops (written by `unmask extract`) and scan crops are identical.
 * - `scale`: the square of the box's longer side, centred on the box (ICPR2020).
 * - `margin`: the box grown by `margin` (default 0.3) of its size on each side, fitted isotropically
 *   into the square and padded (the DFDC winner's +30% crops).
 * - `align`: similarity transform putting both eyes and the mouth on fixed template positions (FTCN-style).
 * `scale` and `margin` crops of a video whose faces are turned by quarter turns (a video stored
 * sideways; face_orientation.ts settles it per video) are turned back upright, and a head tilted
 * more than {@link KEPT_ROLL_DEGREES} is rolled back to that, as the models saw faces in training.
 */
import type { Affine } from '../image/affine.js';
import { applyAffine, invertAffine, scaleTranslate, similarityFromPoints } from '../image/affine.js';
import { warpAffine } from '../image/warp.js';
import { faceRoll, type QuarterTurns, rollBeyond, rotateSquareMap } from './face_orientation.js';
import type { Box, FaceCrop, FaceDetection, Frame, Keypoints, Point } from '../types.js';
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

/**
 * Map from crop pixels to frame pixels for one detection. `turns`: clockwise quarter turns of the
 * faces in the frame, undone by the crop (`align` needs none: it follows the keypoints' roll).
 */
export function cropMap(det: FaceDetection, opt: CropOptions, turns: QuarterTurns = 0): Affine {
  if (opt.policy === 'align') return alignMap(det.keypoints, opt.size);
  const square = opt.policy === 'scale' ? scaleMap(det.box, opt.size) : marginMap(det.box, opt.size, opt.margin);
  // both cut a square centred on the box, so rotating it about its centre keeps the area cut
  return rotateSquareMap(square, 90 * turns + straighteningRoll(faceRoll(det.keypoints), turns), opt.size);
}

/**
 * Roll a `scale` or `margin` crop leaves in a face; a head tilted further is rolled back to it. The
 * training faces were about upright (their crops were rolled at most 10 degrees by augmentation), and
 * tilted real heads scored as fakes: README, "Turned and tilted faces".
 */
export const KEPT_ROLL_DEGREES = 15;

/**
 * How far (clockwise degrees) a crop rolls a face back: the part of its roll, beyond the video's
 * quarter turns, past {@link KEPT_ROLL_DEGREES}; 0 within it, so upright faces are cut unrotated.
 */
export function straighteningRoll(roll: number, turns: QuarterTurns): number {
  const r = rollBeyond(roll, turns);
  return Math.abs(r) <= KEPT_ROLL_DEGREES ? 0 : Math.sign(r) * (Math.abs(r) - KEPT_ROLL_DEGREES);
}

/** `scale`: the square of the box's longer side, centred on the box. */
function scaleMap(box: Box, size: number): Affine {
  const side = Math.max(box.width, box.height);
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  return scaleTranslate(size / side, cx - side / 2, cy - side / 2);
}

/** `margin`: the box grown by `margin` per side, fitted isotropically into the square and centred. */
function marginMap(box: Box, size: number, margin: number): Affine {
  const w = box.width * (1 + 2 * margin), h = box.height * (1 + 2 * margin);
  const s = size / Math.max(w, h);
  return scaleTranslate(s, box.x - box.width * margin, box.y - box.height * margin, (size - w * s) / 2, (size - h * s) / 2);
}

/** Similarity crop -> frame, fitted from the template points to the detected ones (any roll). */
function alignMap(k: Keypoints, size: number): Affine {
  const template = ALIGN_TEMPLATE.map(([x, y]) => [x * size, y * size] as Point);
  return similarityFromPoints(template, [k[0], k[1], k[3]]);
}

/** Cuts the crop of one detection out of a frame (`turns` as in {@link cropMap}). */
export function cropFace(frame: Frame, det: FaceDetection, opt: CropOptions, turns: QuarterTurns = 0): { rgb: Buffer; keypoints: Keypoints } {
  const map = cropMap(det, opt, turns);
  const rgb = warpAffine(frame.pixels, map, opt.size, opt.size);
  const toCrop = invertAffine(map);
  const keypoints = det.keypoints.map((p) => applyAffine(toCrop, p)) as Keypoints;
  return { rgb, keypoints };
}

/** Builds a FaceCrop record (track id filled in later by the tracker). */
export function makeFaceCrop(frame: Frame, det: FaceDetection, opt: CropOptions, trackId = -1, turns: QuarterTurns = 0): FaceCrop {
  const { rgb, keypoints } = cropFace(frame, det, opt, turns);
  return { frameIndex: frame.index, timeMs: frame.timeMs, trackId, size: opt.size, rgb, keypoints, detection: det };
}
