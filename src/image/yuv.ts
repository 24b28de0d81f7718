/**
 * Planar YUV 4:2:0 frames straight from the decoder, and their conversion to RGB.
 *
 * Converting a whole 1080p frame to RGB costs ffmpeg ~6 ms per frame and triples the bytes piped to
 * Node; a scan only needs RGB inside a few face crops. So frames stay YUV and pixels are converted
 * where they are sampled. Chroma is sampled like ffmpeg's unscaled yuv420p -> rgb24 converter
 * (each chroma sample covers its 2x2 luma block), so crops match those cut from ffmpeg's RGB.
 */

import type { YuvImage } from '../types.js';

/** Colour matrix of the Y'CbCr encoding; both in limited ("tv", 16-235) range. */
export type YuvMatrix = 'bt601' | 'bt709';

/** ffmpeg rawvideo `yuv420p`: the Y plane, then U, then V, each row-major without padding. */
export type Yuv420Image = YuvImage;

/** Bytes of a yuv420p frame (chroma planes are ceil(w/2) x ceil(h/2)). */
export function yuv420Bytes(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/** Coefficients for R = ky*(Y-16) + rv*(V-128), G = ky*(Y-16) + gu*(U-128) + gv*(V-128), B = ky*(Y-16) + bu*(U-128). */
export interface YuvCoefficients {
  ky: number;
  rv: number;
  gu: number;
  gv: number;
  bu: number;
}

export const YUV_COEFFICIENTS: Readonly<Record<YuvMatrix, YuvCoefficients>> = {
  bt601: { ky: 255 / 219, rv: 1.402 * (255 / 224), gu: -0.344136 * (255 / 224), gv: -0.714136 * (255 / 224), bu: 1.772 * (255 / 224) },
  bt709: { ky: 255 / 219, rv: 1.5748 * (255 / 224), gu: -0.187324 * (255 / 224), gv: -0.468124 * (255 / 224), bu: 1.8556 * (255 / 224) },
};

/**
 * The matrix to decode a stream with, from ffprobe's `color_space`. Streams that do not say are
 * decoded as BT.601, which is what ffmpeg's own RGB conversion assumes for them.
 */
export function matrixForColorSpace(colorSpace: string | undefined): YuvMatrix {
  return colorSpace === 'bt709' ? 'bt709' : 'bt601';
}

/** Plane offsets and strides of a yuv420p buffer. */
export function yuvPlanes(img: Yuv420Image): { cw: number; ch: number; uOff: number; vOff: number } {
  const cw = Math.ceil(img.width / 2), ch = Math.ceil(img.height / 2);
  if (img.chromaOffsets) return { cw, ch, uOff: img.chromaOffsets.u, vOff: img.chromaOffsets.v };
  const uOff = img.width * img.height;
  return { cw, ch, uOff, vOff: uOff + cw * ch };
}

/** A rectangle of an image, in pixels. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Conversion to packed RGB of the whole image, or of `rect` (used where full RGB is needed, e.g.
 * detector tiles, and for the decoder's preview strip). Writes into `out` when given (its own
 * buffer, e.g. one to transfer to another thread).
 */
export function yuv420ToRgb(
  img: Yuv420Image,
  rect: PixelRect = { x: 0, y: 0, width: img.width, height: img.height },
  out: Buffer = Buffer.allocUnsafe(rect.width * rect.height * 3),
): Buffer {
  const { width: w, data } = img;
  const { cw, uOff, vOff } = yuvPlanes(img);
  const k = YUV_COEFFICIENTS[img.matrix];
  let o = 0;
  for (let y = rect.y; y < rect.y + rect.height; y++) {
    const yRow = y * w, cRow = (y >> 1) * cw;
    for (let x = rect.x; x < rect.x + rect.width; x++, o += 3) {
      const l = k.ky * (data[yRow + x] - 16);
      const u = data[uOff + cRow + (x >> 1)] - 128, v = data[vOff + cRow + (x >> 1)] - 128;
      out[o] = clampByte(l + k.rv * v);
      out[o + 1] = clampByte(l + k.gu * u + k.gv * v);
      out[o + 2] = clampByte(l + k.bu * u);
    }
  }
  return out;
}

/** Rounds and clamps to 0..255. */
export function clampByte(x: number): number {
  return x <= 0 ? 0 : x >= 255 ? 255 : (x + 0.5) | 0;
}
