/** Options of the BlazeFace detector, with their defaults. */
export interface FaceDetectorOptions {
  /** Minimum detection confidence in [0, 1]. Default 0.6. */
  minScore: number;
  /** Most faces kept per frame, highest scores first. Default 4. */
  maxFaces: number;
  /** Detections overlapping more than this IoU are merged (score-weighted). Default 0.3 (MediaPipe). */
  mergeIoU: number;
  /**
   * Input rescale before detection. `auto` is the DFDC winner's rule by the frame's longer side:
   * 2x below 300 px, 1x up to 1000, 0.5x up to 1900, 0.33x above. A number forces that factor.
   * Default `auto`.
   */
  rescale: 'auto' | number;
  /**
   * Views of a wide frame. `fast`: the whole frame, and overlapping tiles only when it finds no face
   * (measured on FF++ videos: the whole frame alone finds every main face of 720p-1080p footage).
   * `thorough`: tiles and the whole frame always (finds small background faces too; ~3x the cost).
   * Default `fast`.
   */
  passes: 'fast' | 'thorough';
  /**
   * Look again, with wider borders, at a frame where no view found a face (up to two more detector
   * runs): a face that fills or overflows the picture, as in tight face-crop images, is too big for
   * the model otherwise. Default true.
   */
  closeUps: boolean;
  /**
   * Smallest face kept, as its box's longer side in frame pixels. Default 60: smaller faces carry
   * too little detail to judge, and the classifiers read that lack of detail as a fake's (measured on
   * real faces of DFDC and FF++ shrunk in a frame: below 60 px the share of real faces called FAKE
   * rose from 0-6% to 14-80%; README, "Small faces"). Faces left out are counted in the
   * {@link DetectionReport}.
   */
  minFaceSize: number;
  /**
   * onnxruntime intra-op threads. Default 1: the 256x256 model gains little from more, and during a
   * scan ffmpeg is decoding on the other cores (measured by `npm run bench`, see README).
   */
  threads?: number;
}

export const DEFAULT_FACE_DETECTOR_OPTIONS: FaceDetectorOptions = {
  minScore: 0.6,
  maxFaces: 4,
  mergeIoU: 0.3,
  rescale: 'auto',
  passes: 'fast',
  closeUps: true,
  minFaceSize: 60,
};

/** What a detection left out, filled in by `detect(frame, report)`; counts add up over calls. */
export interface DetectionReport {
  /** Faces found but smaller than `minFaceSize`. */
  tooSmall: number;
  /** Box side of the largest of them, in frame pixels (0 when none). */
  largestTooSmall: number;
}

/** The DFDC winner's input rescale factor for a frame whose longer side is `longSide` pixels. */
export function rescaleFactor(longSide: number): number {
  if (longSide < 300) return 2;
  if (longSide <= 1000) return 1;
  if (longSide <= 1900) return 0.5;
  return 0.33;
}
