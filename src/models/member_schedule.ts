/**
 * Which members of a frame-model ensemble score the faces of each sampled frame.
 *
 * - `every-frame`: every member scores every face (cost: the sum of the members per face).
 * - `alternate` (the scan's default): the first frame with faces is scored by every member, so an
 *   image or a one-frame video gets the whole ensemble; from then on the frames with faces take
 *   turns, one member each (second frame: member 0, third: member 1, ...). A video's verdict is
 *   the mean of its faces' calibrated logits, so over 32 sampled frames every member still speaks
 *   for about 1/n of them, at about the cost of one member per face. Measured on the 60 FF++ c40
 *   test videos (README "Speed"): per-video P(fake) moved by about as much as 31 or 33 frames
 *   instead of 32 do.
 */
export const MEMBER_SCHEDULES = ['alternate', 'every-frame'] as const;
export type MemberSchedule = (typeof MEMBER_SCHEDULES)[number];
export const DEFAULT_MEMBER_SCHEDULE: MemberSchedule = 'alternate';

/**
 * Indices of the members (of `memberCount`) that score the faces of the frame that is the
 * `ordinal`-th frame with faces of its input (0-based), under `schedule`.
 */
export function membersForFrame(schedule: MemberSchedule, ordinal: number, memberCount: number): number[] {
  if (!Number.isInteger(ordinal) || ordinal < 0) throw new RangeError(`frame ordinal must be a non-negative integer, got ${ordinal}`);
  if (schedule === 'every-frame' || ordinal === 0 || memberCount <= 1) return Array.from({ length: memberCount }, (_, m) => m);
  return [(ordinal - 1) % memberCount];
}

/**
 * For faces listed frame by frame (`frameIndex` of each, in any order), the 0-based ordinal of each
 * face's frame among the distinct frames with faces, in frame order.
 */
export function frameOrdinals(frameIndices: readonly number[]): number[] {
  const rank = new Map([...new Set(frameIndices)].sort((a, b) => a - b).map((f, i) => [f, i]));
  return frameIndices.map((f) => rank.get(f)!);
}
