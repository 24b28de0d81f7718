/**
 * Faces turned by quarter turns: a video stored sideways or upside down without rotation metadata
 * (an app that dropped it, a camera that never wrote it), or a person lying down. BlazeFace and the
 * classifiers are trained on upright faces: before this module, the demo clip turned a quarter turn
 * had two of its three real people found and was called FAKE (72%; upright: UNCERTAIN 63%).
 *
 * Quarter turns count clockwise as the picture is shown (image y axis pointing down): a face turned
 * by k has its chin pointing along the image's down direction turned clockwise k times.
 */
import type { Affine } from '../image/affine.js';
import type { FaceDetection, Keypoints } from '../types.js';

export type QuarterTurns = 0 | 1 | 2 | 3;

/** Normalises any integer number of quarter turns into 0-3. */
export function quarterTurns(k: number): QuarterTurns {
  return (((Math.round(k) % 4) + 4) % 4) as QuarterTurns;
}

/**
 * Clockwise roll of a face in degrees (-180, 180], from its keypoints: the direction from the eyes'
 * midpoint to the mouth, which points straight down in an upright face.
 */
export function faceRoll(kp: Keypoints): number {
  const [rightEye, leftEye, , mouth] = kp;
  const dx = mouth[0] - (rightEye[0] + leftEye[0]) / 2;
  const dy = mouth[1] - (rightEye[1] + leftEye[1]) / 2;
  // down (0, 1) turned clockwise by r on screen (y down) is (-sin r, cos r)
  const r = (Math.atan2(-dx, dy) * 180) / Math.PI;
  return r === -180 ? 180 : r;
}

/** A roll (degrees) measured from `k` quarter turns instead of upright, in [-180, 180). */
export function rollBeyond(roll: number, k: QuarterTurns): number {
  return ((((roll - 90 * k + 180) % 360) + 360) % 360) - 180;
}

/** How far (degrees, 0-180) a roll is from `k` quarter turns. */
export function rollOffset(roll: number, k: QuarterTurns): number {
  return Math.abs(rollBeyond(roll, k));
}

/**
 * A face whose roll is within this of a view's turn sits upright in that view. The detector reads
 * such a face's keypoints well; a face turned a quarter turn from the view reads short (seen
 * upright, faces turned -90 read -50 to -55), so a view is judged only by the faces it sees upright.
 */
export const UPRIGHT_DEGREES = 30;

/** Mean over faces of how far (degrees) each one's roll is from `k` quarter turns. */
export function meanRollOffset(faces: readonly FaceDetection[], k: QuarterTurns): number {
  return faces.reduce((sum, f) => sum + rollOffset(faceRoll(f.keypoints), k), 0) / faces.length;
}

/**
 * Faces whose mean roll is at least this far from the views' turn lean far: quarter-turned faces
 * seen in upright views read 50-95 degrees (the turned demo clip and sample photos), tilted heads
 * less. Below it, a turn needs its views to find more faces than the views at hand: face-filling
 * DFDC crops of heads tilted about 35 degrees read upright at every other turn as well.
 */
export const FAR_LEAN_DEGREES = 50;

/** How many of `faces`, found by views turned by `k`, sit upright in those views (scoring at least `minScore`). */
export function uprightFaces(faces: readonly FaceDetection[], k: QuarterTurns, minScore = 0): number {
  return faces.filter((f) => f.score >= minScore && rollOffset(faceRoll(f.keypoints), k) <= UPRIGHT_DEGREES).length;
}

/**
 * A map from output pixels to source pixels, composed with a turn of the output by `k` clockwise
 * quarter turns about the centre of its `size` x `size` square: what the output shows upright is what
 * the source shows turned by k. Pixel centres map onto pixel centres, so the turn only permutes pixels.
 */
export function turnSquareMap(map: Affine, k: QuarterTurns, size: number): Affine {
  return rotateSquareMap(map, 90 * k, size);
}

/**
 * The same for any clockwise angle in degrees: what the output shows upright is what the source
 * shows rolled clockwise by `degrees`. Multiples of 90 use exact sines, so they only permute pixels.
 */
export function rotateSquareMap(map: Affine, degrees: number, size: number): Affine {
  if (degrees === 0) return map;
  const quarter = degrees / 90;
  const [cos, sin] = Number.isInteger(quarter)
    ? [[1, 0], [0, 1], [-1, 0], [0, -1]][quarterTurns(quarter)]
    : [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];
  // maps work on continuous coordinates (pixel i spans [i, i + 1)): the square's centre is size / 2
  const c = size / 2;
  // the square's own rotation: (u, v) -> R (u - c, v - c) + c, R (x, y) = (x cos - y sin, x sin + y cos), clockwise on screen
  const turn: Affine = [cos, -sin, c - cos * c + sin * c, sin, cos, c - sin * c - cos * c];
  const [a, b, tx, d, e, ty] = map;
  return [
    a * turn[0] + b * turn[3],
    a * turn[1] + b * turn[4],
    a * turn[2] + b * turn[5] + tx,
    d * turn[0] + e * turn[3],
    d * turn[1] + e * turn[4],
    d * turn[2] + e * turn[5] + ty,
  ];
}

/** How many frames without a face, at the start of a video, are looked at turned (the other three turns). */
export const TURN_SEARCH_FRAMES = 2;

/**
 * Smallest detector score of a face that counts as seen upright in a look at another turn. Looks at
 * turns other than the video's see more false faces than upright ones: a DFDC face crop whose only
 * face was too small to keep had a 0.63 "face" upside down.
 */
export const TURN_EVIDENCE_SCORE = 0.75;

/** One look at a frame: the faces kept, and how many were found but left out as too small (and the largest's side). */
export interface Look {
  faces: FaceDetection[];
  tooSmall: number;
  largestTooSmall: number;
}

/** Looks at one frame with the detector's views turned by `turns` (`search`: a cheap look, the whole-frame view only). */
export type TurnedDetect = (turns: QuarterTurns, search: boolean) => Promise<Look>;

/**
 * Which way the faces of one video are turned, settled on its first frame with faces: when a face
 * found there is not upright in the views ({@link UPRIGHT_DEGREES}), that frame is looked at again
 * at the three other turns, and the turn whose views see the most faces upright (each scoring at
 * least {@link TURN_EVIDENCE_SCORE}) is taken if they see more than the views at hand and, unless
 * the faces at hand lean far ({@link FAR_LEAN_DEGREES}), find more faces in all (a lone tilted head
 * stays as it is); every later frame uses the turn taken. While nothing at all has been found (not
 * even faces too small to keep), the first {@link TURN_SEARCH_FRAMES} frames are also tried at the
 * other three turns. Looks at other turns are cheap ones; a turn taken gets the full views. One per
 * video, used in frame order.
 */
export class VideoOrientation {
  private current: QuarterTurns = 0;
  private settled = false;
  private searched = 0;

  /** The turn of the detector's views now (and for the rest of the video once settled). */
  get turns(): QuarterTurns {
    return this.current;
  }

  /** The look at this frame the scan keeps (at the video's turn, once this frame has settled it). */
  async detect(detect: TurnedDetect): Promise<Look> {
    const look = await detect(this.current, false);
    if (this.settled) return look;
    const { faces } = look;
    if (faces.length > 0) {
      this.settled = true;
      // every face upright in the views at hand: nothing to look for
      const upright = uprightFaces(faces, this.current);
      if (upright === faces.length) return look;
      // some face leans (a tilted head, or a turned face): look at the frame at the other turns and
      // keep the one that sees the most faces upright, if it sees more than the views at hand
      const leansFar = meanRollOffset(faces, this.current) >= FAR_LEAN_DEGREES;
      let best = { turns: this.current, upright, offset: Infinity };
      for (let step = 1; step < 4; step++) {
        const k = quarterTurns(this.current + step);
        const turned = (await detect(k, true)).faces;
        const n = uprightFaces(turned, k, TURN_EVIDENCE_SCORE);
        // more faces upright, and either more faces found or faces here leaning far: a face filling
        // the picture reads upright at every turn, so one such face alone is no evidence
        if (n <= upright || !(turned.length > faces.length || leansFar)) continue;
        // of two turns seeing as many upright, the one they sit straighter in
        const offset = meanRollOffset(turned, k);
        if (n > best.upright || (n === best.upright && offset < best.offset)) best = { turns: k, upright: n, offset };
      }
      if (best.turns === this.current) return look;
      this.current = best.turns;
      // the full views at the turn taken, as every later frame gets
      return detect(this.current, false);
    }
    // a face too small to keep was found: the frame is not turned out of the detector's sight
    if (look.tooSmall > 0) this.settled = true;
    if (this.settled || this.searched >= TURN_SEARCH_FRAMES) return look;
    this.searched++;
    for (let step = 1; step < 4; step++) {
      const k = quarterTurns(this.current + step);
      if (uprightFaces((await detect(k, true)).faces, k, TURN_EVIDENCE_SCORE) > 0) {
        this.settled = true;
        this.current = k;
        return detect(k, false);
      }
    }
    return look;
  }
}
