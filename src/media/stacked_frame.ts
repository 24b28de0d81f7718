/**
 * Layout of the raw frames the decoder writes: the full frame with the face detector's preview
 * stacked below it (ffmpeg `vstack`), so ONE pipe carries both and nothing has to keep two pipes in
 * step. The preview strip is as wide as the frame; the preview itself sits at its left.
 *
 *   rows 0 .. H-1        the frame (W x H)
 *   rows H .. H+ph-1     preview (pw x ph) then black padding to W
 *
 * In yuv420p each plane is stacked the same way, so the frame's U and V planes start where the
 * stacked frame's do (see `chromaOffsets` of YuvImage).
 */
import { clampByte, yuv420Bytes, type YuvMatrix, YUV_COEFFICIENTS } from '../image/yuv.js';
import type { PixelImage, RgbImage } from '../types.js';

export interface StackedLayout {
  format: 'yuv420p' | 'rgb24';
  /** The frame's size (the stacked frame is as wide and `preview.height` rows taller). */
  width: number;
  height: number;
  /** The preview's size, or none when the frame is not bigger than a preview (tiny videos). */
  preview?: { width: number; height: number };
}

/** Rows of the whole stacked frame. */
export function stackedHeight(l: StackedLayout): number {
  return l.height + (l.preview?.height ?? 0);
}

/** Bytes of one stacked frame on the pipe. */
export function stackedFrameBytes(l: StackedLayout): number {
  const h = stackedHeight(l);
  return l.format === 'yuv420p' ? yuv420Bytes(l.width, h) : l.width * h * 3;
}

/** The frame's pixels as a view into the stacked buffer (no copy). */
export function framePixels(data: Buffer, l: StackedLayout, matrix: YuvMatrix): PixelImage {
  const { width, height } = l;
  if (l.format === 'rgb24') return { format: 'rgb24', width, height, data: data.subarray(0, width * height * 3) };
  const hs = stackedHeight(l);
  const cw = Math.ceil(width / 2);
  const u = width * hs;
  return { format: 'yuv420p', width, height, data, matrix, chromaOffsets: { u, v: u + cw * Math.ceil(hs / 2) } };
}

/** The preview strip as packed RGB (converted from YUV when the frame is YUV; the strip is small). */
export function previewRgb(data: Buffer, l: StackedLayout, matrix: YuvMatrix): RgbImage | undefined {
  const p = l.preview;
  if (!p) return undefined;
  // its own ArrayBuffer (never Node's shared pool), so the decode worker can transfer it
  const out = Buffer.alloc(p.width * p.height * 3);
  const w = l.width;
  if (l.format === 'rgb24') {
    for (let r = 0; r < p.height; r++) data.copy(out, r * p.width * 3, (l.height + r) * w * 3, ((l.height + r) * w + p.width) * 3);
    return { format: 'rgb24', width: p.width, height: p.height, data: out };
  }
  const hs = stackedHeight(l);
  const cw = Math.ceil(w / 2);
  const uOff = w * hs, vOff = uOff + cw * Math.ceil(hs / 2);
  const k = YUV_COEFFICIENTS[matrix];
  let o = 0;
  for (let r = 0; r < p.height; r++) {
    const yRow = (l.height + r) * w, cRow = ((l.height + r) >> 1) * cw;
    for (let c = 0; c < p.width; c++, o += 3) {
      const lum = k.ky * (data[yRow + c] - 16);
      const cu = data[uOff + cRow + (c >> 1)] - 128, cv = data[vOff + cRow + (c >> 1)] - 128;
      out[o] = clampByte(lum + k.rv * cv);
      out[o + 1] = clampByte(lum + k.gu * cu + k.gv * cv);
      out[o + 2] = clampByte(lum + k.bu * cu);
    }
  }
  return { format: 'rgb24', width: p.width, height: p.height, data: out };
}
