/**
 * One bilinear sample per output pixel of an affine map (crops at about the source's scale, rotated
 * or not; the rotating half of a rotated shrink; upscales), run in WebAssembly (image_kernels.ts):
 * groups of four output pixels whose taps all lie inside the source as float32 SIMD lanes, the
 * rest one by one in float64, so values stay within one level of a float64 loop. The source region
 * the taps can reach is copied into the kernels' memory band by band (output rows whose region
 * fits BAND_BYTES), so a turned whole frame goes through without growing that memory much.
 * Taps outside the source weigh 0 (black), as in every warp in src/image.
 */
import type { Affine } from './affine.js';
import { copyRows, imageKernels } from './image_kernels.js';
import { type Yuv420Image, YUV_COEFFICIENTS, yuvPlanes } from './yuv.js';

/** Most source bytes (luma or RGB) one band copies in. */
const BAND_BYTES = 4 << 20;

/** Source columns [x0, x1) and rows [y0, y1) the taps of output rows [v0, v1) can reach (both may be empty). */
export interface TapRegion {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * The region of the source that output rows [v0, v1) sample: the map's extremes over those rows'
 * corners, one pixel of slack each way for the second tap and rounding, clipped to the source and
 * started on even coordinates (so a 4:2:0 chroma sample's index is the luma index halved).
 */
export function tapRegion(map: Affine, outW: number, v0: number, v1: number, srcW: number, srcH: number): TapRegion {
  const [a, b, c, d, e, f] = map;
  const corners = [[0, v0], [outW, v0], [0, v1], [outW, v1]];
  const xs = corners.map(([u, v]) => a * u + b * v + c), ys = corners.map(([u, v]) => d * u + e * v + f);
  const clip = (lo: number, hi: number, n: number) => {
    const from = Math.min(n, Math.max(0, Math.floor(lo) - 2)) & ~1;
    return [from, Math.max(from, Math.min(n, Math.ceil(hi) + 2))];
  };
  const [x0, x1] = clip(Math.min(...xs), Math.max(...xs), srcW);
  const [y0, y1] = clip(Math.min(...ys), Math.max(...ys), srcH);
  return { x0, x1, y0, y1 };
}

/** Output row bands [v0, v1) whose source regions each hold at most about BAND_BYTES (at `bytesPerPixel`). */
function* bands(map: Affine, outW: number, outH: number, srcW: number, srcH: number, bytesPerPixel: number): Generator<[number, number, TapRegion]> {
  for (let v0 = 0; v0 < outH; ) {
    let v1 = outH;
    let r = tapRegion(map, outW, v0, v1, srcW, srcH);
    while (v1 - v0 > 1 && (r.x1 - r.x0) * (r.y1 - r.y0) * bytesPerPixel > BAND_BYTES) {
      v1 = v0 + ((v1 - v0) >> 1);
      r = tapRegion(map, outW, v0, v1, srcW, srcH);
    }
    yield [v0, v1, r];
    v0 = v1;
  }
}

/** Planar YUV 4:2:0 -> packed RGB, Y-16 and chroma-128 blended with the tap weights. */
export function bilinearWarpYuv420(src: Yuv420Image, map: Affine, outW: number, outH: number): Buffer {
  const { width: w, height: h, data } = src;
  const { cw, uOff, vOff } = yuvPlanes(src);
  const k = YUV_COEFFICIENTS[src.matrix];
  const { exports: kernels, memory } = imageKernels();
  const out = Buffer.allocUnsafe(outW * outH * 3); // bands cover every row, and the kernels write every pixel
  for (const [v0, v1, r] of bands(map, outW, outH, w, h, 1)) {
    const rows = r.y1 - r.y0, cols = r.x1 - r.x0;
    const cRows = Math.ceil(r.y1 / 2) - r.y0 / 2, cCols = Math.ceil(r.x1 / 2) - r.x0 / 2;
    const yStride = (cols + 15) & ~15, cStride = (cCols + 15) & ~15;
    memory.reset();
    const Y = memory.alloc(yStride * Math.max(rows, 1));
    const U = memory.alloc(cStride * Math.max(cRows, 1)), V = memory.alloc(cStride * Math.max(cRows, 1));
    const rgb = memory.alloc((v1 - v0) * outW * 3);
    memory.commit();
    copyRows(memory, Y, yStride, data, r.y0 * w + r.x0, w, cols, rows);
    copyRows(memory, U, cStride, data, uOff + (r.y0 / 2) * cw + r.x0 / 2, cw, cCols, cRows);
    copyRows(memory, V, cStride, data, vOff + (r.y0 / 2) * cw + r.x0 / 2, cw, cCols, cRows);
    kernels.bilinearYuv(Y, yStride, U, V, cStride, r.x0, r.y0, w, h, ...map, k.ky, k.rv, k.gu, k.gv, k.bu, outW, v0, v1, rgb);
    out.set(memory.bytes.subarray(rgb, rgb + (v1 - v0) * outW * 3), v0 * outW * 3);
  }
  return out;
}

/** Packed RGB -> packed RGB. */
export function bilinearWarpRGB(src: Uint8Array, srcW: number, srcH: number, map: Affine, outW: number, outH: number): Buffer {
  const { exports: kernels, memory } = imageKernels();
  const out = Buffer.allocUnsafe(outW * outH * 3); // bands cover every row, and the kernels write every pixel
  for (const [v0, v1, r] of bands(map, outW, outH, srcW, srcH, 3)) {
    const rows = r.y1 - r.y0, rowBytes = (r.x1 - r.x0) * 3;
    const stride = (rowBytes + 15) & ~15;
    memory.reset();
    const region = memory.alloc(stride * Math.max(rows, 1));
    const rgb = memory.alloc((v1 - v0) * outW * 3);
    memory.commit();
    copyRows(memory, region, stride, src, (r.y0 * srcW + r.x0) * 3, srcW * 3, rowBytes, rows);
    kernels.bilinearRgb(region, stride, r.x0, r.y0, srcW, srcH, ...map, outW, v0, v1, rgb);
    out.set(memory.bytes.subarray(rgb, rgb + (v1 - v0) * outW * 3), v0 * outW * 3);
  }
  return out;
}
