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
import { yuv420Bytes, yuv420ToRgb, type YuvMatrix, yuvPlanes } from '../image/yuv.js';
import type { PixelImage, RgbImage, YuvImage } from '../types.js';

export interface StackedLayout {
  format: 'yuv420p' | 'rgb24';
  /** The frame's size (the stacked frame is as wide and `preview.height` rows taller). */
  width: number;
  height: number;
  /** The preview's size, or none when the frame is not bigger than a preview (tiny videos). */
  preview?: { width: number; height: number };
  /**
   * ffmpeg filters that first turn each decoded frame into what a player shows, `width` x `height`
   * (display_chain.ts: deinterlacing, tone mapping of HDR, square pixels); none for most videos.
   */
  display?: string;
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
  // the frame's planes start where the stacked image's do
  const { uOff, vOff } = yuvPlanes({ format: 'yuv420p', width, height: stackedHeight(l), data, matrix });
  return { format: 'yuv420p', width, height, data, matrix, chromaOffsets: { u: uOff, v: vOff } };
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
  // the whole stacked buffer seen as one taller image; the strip is a rectangle of it
  const stacked: YuvImage = { format: 'yuv420p', width: w, height: stackedHeight(l), data, matrix };
  yuv420ToRgb(stacked, { x: 0, y: l.height, width: p.width, height: p.height }, out);
  return { format: 'rgb24', width: p.width, height: p.height, data: out };
}
