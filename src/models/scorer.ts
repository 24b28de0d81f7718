/**
 * The contract the pipeline scores faces through, met by a single {@link FrameClassifier} and by an
 * {@link Ensemble}, plus temperature scaling (the calibration step shared by both).
 */
import type { FaceCrop } from '../types.js';
import type { DecisionBand } from './manifest.js';

/** Something that turns face crops into calibrated FAKE logits. */
export interface FaceScorer {
  /** Probability band used to turn the aggregated probability into a verdict. */
  readonly band: DecisionBand;
  /**
   * One calibrated logit per crop, in input order: `sigmoid(logit)` is the calibrated probability
   * that the face is FAKE.
   */
  predictCalibrated(crops: FaceCrop[]): Promise<Float32Array>;
  /** Frees native resources; the scorer cannot be used afterwards. */
  dispose(): Promise<void>;
}

/** Temperature scaling: returns a new array with every logit divided by `temperature` (> 0). */
export function applyTemperature(logits: Float32Array, temperature: number): Float32Array {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`temperature must be a positive finite number, got ${temperature}`);
  }
  return logits.map((l) => l / temperature);
}
