/**
 * The affine warp of src/image/affine.ts, reading planar YUV 4:2:0 and writing packed RGB. Each
 * bilinear tap reads Y at its luma pixel and U/V at the chroma sample covering that pixel, so the
 * result equals warping ffmpeg's own RGB conversion of the frame (up to rounding), at a fraction of
 * the cost: only the output pixels are converted. Maps at about the source's scale take one
 * bilinear sample per output pixel (bilinear_warp.ts), shrinking ones an area average
 * (area_resample.ts), rotating shrinks the one and then the other.
 */
import { type Affine, affineScale, warpAffineRGB } from './affine.js';
import { areaWarpYuv420, isAxisAlignedShrink, splitRotatedShrink } from './area_resample.js';
import { bilinearWarpYuv420 } from './bilinear_warp.js';
import type { Yuv420Image } from './yuv.js';

export function warpAffineYuv420(src: Yuv420Image, map: Affine, outW: number, outH: number): Buffer {
  const ss = Math.max(1, Math.round(affineScale(map)));
  if (ss > 1 && isAxisAlignedShrink(map)) return areaWarpYuv420(src, map, outW, outH);
  if (ss === 1) return bilinearWarpYuv420(src, map, outW, outH);
  // a rotating shrink (a rolled or turned face): area-average the region, then rotate it
  const split = splitRotatedShrink(map, outW, outH);
  const mid = areaWarpYuv420(src, split.area, split.width, split.height);
  return warpAffineRGB(mid, split.width, split.height, split.rest, outW, outH);
}
