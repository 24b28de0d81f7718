/**
 * How an ensemble's members' calibrated logits become one logit per face. Pure (no sessions), so
 * the scanner and `unmask eval` combine members with the same code.
 *
 * Member m's logit z counts as `weight * z + bias` (its {@link MemberWeighting}; 1 and 0 outside a
 * stacked ensemble) and a face's ensemble logit is the mean over members. Under the `alternate`
 * member schedule most faces are scored by one member only (NaN for the others). Such a face gets the
 * whole ensemble's estimate all the same: a member that did not score it counts with its mean over
 * the faces of the same track that it did score (else over the input's faces it scored; a member
 * that scored none of the input's faces is left out). So every face's logit is on one scale whichever
 * member looked at it, and a track's mean logit is the weighted mean of its members' track means:
 * the combination a stacking fit assumes, with each member weighing 1/n whatever its share of frames.
 * With every member on every face this is the plain (weighted) mean.
 */
import { type MemberWeighting, UNWEIGHTED } from './ensemble_manifest.js';

/**
 * Per-face ensemble logits from per-member logits (outer index = member; NaN where a member did not
 * score a face) and each face's track id. A face that no member scored stays NaN.
 */
export function combineMembers(perMember: readonly ArrayLike<number>[], trackIds: readonly number[], weighting?: readonly MemberWeighting[]): Float64Array {
  const n = trackIds.length;
  const fill = perMember.map((logits) => memberMeans(logits, trackIds));
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let count = 0;
    let scored = false;
    for (let m = 0; m < perMember.length; m++) {
      const logits = perMember[m];
      const own = logits[i];
      const z = Number.isNaN(own) ? (fill[m].byTrack.get(trackIds[i]) ?? fill[m].overall) : own;
      if (!Number.isNaN(own)) scored = true;
      if (Number.isNaN(z)) continue;
      const w = weighting?.[m] ?? UNWEIGHTED;
      sum += w.weight * z + w.bias;
      count++;
    }
    out[i] = scored && count ? sum / count : Number.NaN;
  }
  return out;
}

/** A member's mean logit per track and over all faces it scored (NaN when it scored none). */
function memberMeans(logits: ArrayLike<number>, trackIds: readonly number[]): { byTrack: Map<number, number>; overall: number } {
  const sums = new Map<number, [number, number]>();
  let total = 0;
  let count = 0;
  trackIds.forEach((t, i) => {
    const z = logits[i];
    if (Number.isNaN(z)) return;
    const s = sums.get(t) ?? [0, 0];
    s[0] += z;
    s[1]++;
    sums.set(t, s);
    total += z;
    count++;
  });
  return { byTrack: new Map([...sums].map(([t, [s, c]]) => [t, s / c])), overall: count ? total / count : Number.NaN };
}
