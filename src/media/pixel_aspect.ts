/**
 * Non-square pixels. Anamorphic footage (DV and DVD at 720 px wide, HDV at 1440, some broadcast and
 * edited files) stores pixels that a player shows wider or narrower than tall. Decoded as stored,
 * every face would be squeezed or stretched, a shape neither the detector nor the classifiers saw in
 * training, so ffmpeg scales the decoded frames to square pixels and everything downstream (boxes,
 * crops, annotated videos, thumbnails) works at the display size.
 */

/** Stored pixel aspects closer to 1 than this are square (encoders write 1:1 with rounding noise at most). */
const SQUARE_TOLERANCE = 0.01;
/** Beyond these a stored aspect is a damaged header, not footage (real ones lie between 8:9 and 2:1). */
const MIN_ASPECT = 0.25;
const MAX_ASPECT = 4;

/**
 * The stored pixel's width / height from ffprobe's `sample_aspect_ratio` (`"4:3"`), or undefined
 * when the pixels are square, the stream does not say (`"0:1"`, `"N/A"`), or the value is implausible.
 */
export function parsePixelAspect(sar: string | undefined): number | undefined {
  const m = /^(\d+):(\d+)$/.exec(sar ?? '');
  if (!m) return undefined;
  const aspect = Number(m[1]) / Number(m[2]);
  if (!Number.isFinite(aspect) || aspect < MIN_ASPECT || aspect > MAX_ASPECT) return undefined;
  return Math.abs(aspect - 1) < SQUARE_TOLERANCE ? undefined : aspect;
}

const even = (x: number) => Math.max(2, 2 * Math.round(x / 2));

/**
 * Display size of a stored `width` x `height` frame whose pixels are `aspect` wide per unit of
 * height, turned by a quarter when `rotated`. The frame is stretched, never shrunk (wider pixels
 * widen it, taller ones heighten it), so no stored detail is lost; a corrected side is even.
 */
export function displaySize(width: number, height: number, aspect: number | undefined, rotated: boolean): { width: number; height: number } {
  let w = width, h = height;
  if (aspect !== undefined && aspect > 1) w = even(width * aspect);
  else if (aspect !== undefined && aspect < 1) h = even(height / aspect);
  return rotated ? { width: h, height: w } : { width: w, height: h };
}

/**
 * ffmpeg filter that brings decoded frames (after its autorotation) to the display size
 * `width` x `height` with square pixels.
 */
export function squarePixelsFilter(width: number, height: number): string {
  return `scale=${width}:${height},setsar=1`;
}
