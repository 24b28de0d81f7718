/** Turning a FAKE probability into a verdict with a model's decision band. */
import type { DecisionBand } from '../models/manifest.js';

export type Verdict = 'FAKE' | 'REAL' | 'UNCERTAIN' | 'NO_FACE';

/**
 * Verdict for a FAKE probability:
 *
 * - `null` (no face was scored): NO_FACE;
 * - `prob >= band.fakeAbove`: FAKE;
 * - `prob < band.realBelow`: REAL;
 * - otherwise (`realBelow <= prob < fakeAbove`): UNCERTAIN.
 *
 * FAKE is tested first, so with `realBelow === fakeAbove` there is no UNCERTAIN zone.
 *
 * @throws RangeError if `prob` is not a number in [0, 1].
 */
export function decideVerdict(prob: number | null, band: DecisionBand): Verdict {
  if (prob === null) return 'NO_FACE';
  if (!(prob >= 0 && prob <= 1)) throw new RangeError(`probability must be in [0, 1], got ${prob}`);
  if (prob >= band.fakeAbove) return 'FAKE';
  if (prob < band.realBelow) return 'REAL';
  return 'UNCERTAIN';
}

/** Component-wise mean of decision bands (the band of an ensemble of models with these bands). */
export function meanBand(bands: readonly DecisionBand[]): DecisionBand {
  if (bands.length === 0) throw new RangeError('meanBand needs at least one band');
  const mean = (pick: (b: DecisionBand) => number) => bands.reduce((s, b) => s + pick(b), 0) / bands.length;
  return { realBelow: mean((b) => b.realBelow), fakeAbove: mean((b) => b.fakeAbove) };
}
