/**
 * How large a still picture is read. A picture is decoded whole into memory (3 bytes a pixel, and
 * sharp's own buffers beside it), so its size bounds a scan's memory:
 * - up to {@link SCAN_PICTURE_PIXELS} it is read as stored;
 * - a bigger one is read scaled down to about that many pixels (sharp shrinks JPEGs while decoding).
 *   Faces are found and cut from the picture as read, and their boxes are given in the picture's
 *   own pixels (`Frame.toPicture`). The scan warns.
 * - over {@link MAX_PICTURE_PIXELS} it is refused, with the size named in the error.
 * Measured with `unmask scan` (peak RSS, `/usr/bin/time`; the face photo stretched): read whole, a
 * 50 MP picture peaked at 511 MB, 192 MP at 1,044 MB, four 50 MP ones two at a time (`-j 2`, the
 * default) at 814 MB, and sharp refused 280 MP with its default limit (268 MP); read at 24 MP, 50 to
 * 560 MP pictures peaked at 397-423 MB, and the four 50 MP ones at 588 MB.
 */
import { PictureTooLargeError } from '../util/errors.js';

/**
 * Pixels above which a picture is read scaled down: 24 MP, a 6000x4000 camera's. The models' crops
 * are at most 160 px, the face box with 30% margins (1.6 box widths), so a face keeps all the detail
 * they use unless its box is under about 145 px wide in a 50 MP picture; two scans at once (the
 * default) then stay under 600 MB.
 */
export const SCAN_PICTURE_PIXELS = 24_000_000;

/**
 * Pixels above which a picture is refused. A file of a few MB can declare a picture of billions of
 * pixels, and every pixel is decoded even when the picture is read scaled down (PNG, TIFF, WebP
 * cannot skip any): a bound on the time one input can take.
 */
export const MAX_PICTURE_PIXELS = 1_000_000_000;

export interface PictureSize {
  width: number;
  height: number;
}

/**
 * The size a `width` x `height` picture is read at: undefined when it is read as stored, else its
 * sides scaled alike to hold at most {@link SCAN_PICTURE_PIXELS}.
 * @throws PictureTooLargeError over {@link MAX_PICTURE_PIXELS}.
 */
export function pictureReadSize(path: string, width: number, height: number): PictureSize | undefined {
  const pixels = width * height;
  if (pixels > MAX_PICTURE_PIXELS) throw new PictureTooLargeError(path, `${width}x${height}`, megapixels(pixels), megapixels(MAX_PICTURE_PIXELS));
  if (pixels <= SCAN_PICTURE_PIXELS) return undefined;
  const s = Math.sqrt(SCAN_PICTURE_PIXELS / pixels);
  return { width: Math.max(1, Math.floor(width * s)), height: Math.max(1, Math.floor(height * s)) };
}

/** The scan's warning for a picture read scaled down. */
export function scaledPictureWarning(picture: PictureSize, read: PictureSize): string {
  return (
    `the picture is ${picture.width}x${picture.height} (${megapixels(picture.width * picture.height)} megapixels): ` +
    `it was read at ${read.width}x${read.height} to bound memory, so faces were found and judged at that size; ` +
    'boxes are in the picture\'s own pixels'
  );
}

function megapixels(pixels: number): string {
  return String(Math.round(pixels / 1e6));
}
