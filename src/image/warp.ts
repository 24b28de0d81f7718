/** One entry point to warp a frame's pixels, whatever their format, into packed RGB. */
import type { PixelImage } from '../types.js';
import { type Affine, warpAffineRGB } from './affine.js';
import { warpAffineYuv420 } from './warp_yuv.js';

/** `map` takes output pixel centres to source pixel coordinates; see {@link warpAffineRGB}. */
export function warpAffine(src: PixelImage, map: Affine, outW: number, outH: number): Buffer {
  if (src.format === 'rgb24') return warpAffineRGB(src.data, src.width, src.height, map, outW, outH);
  return warpAffineYuv420(src, map, outW, outH);
}
