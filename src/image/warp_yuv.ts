/**
 * The affine warp of src/image/affine.ts, reading planar YUV 4:2:0 and writing packed RGB. Each
 * bilinear tap reads Y at its luma pixel and U/V at the chroma sample covering that pixel, so the
 * result equals warping ffmpeg's own RGB conversion of the frame (up to rounding), at a fraction of
 * the cost: only the output pixels are converted.
 */
import { type Affine, affineScale, axisTaps, warpAffineRGB } from './affine.js';
import { areaWarpYuv420, isAxisAlignedShrink, splitRotatedShrink } from './area_resample.js';
import { type Yuv420Image, type YuvCoefficients, YUV_COEFFICIENTS, clampByte, yuvPlanes } from './yuv.js';

export function warpAffineYuv420(src: Yuv420Image, map: Affine, outW: number, outH: number): Buffer {
  const ss = Math.max(1, Math.round(affineScale(map)));
  if (ss > 1 && isAxisAlignedShrink(map)) return areaWarpYuv420(src, map, outW, outH);
  const axisAligned = map[1] === 0 && map[3] === 0;
  if (ss === 1) return (axisAligned ? warpAxisAligned : warpBilinear)(src, map, outW, outH);
  // a rotating shrink (a rolled or turned face): area-average the region, then rotate it
  const split = splitRotatedShrink(map, outW, outH);
  const mid = areaWarpYuv420(src, split.area, split.width, split.height);
  return warpAffineRGB(mid, split.width, split.height, split.rest, outW, outH);
}

/** Scale + translate: taps per row and column computed once. */
function warpAxisAligned(src: Yuv420Image, map: Affine, outW: number, outH: number): Buffer {
  const { width: w, height: h, data } = src;
  const { cw, uOff, vOff } = yuvPlanes(src);
  const k = YUV_COEFFICIENTS[src.matrix];
  const out = Buffer.alloc(outW * outH * 3);
  const cx = axisTaps(outW, map[0], map[2], w), cy = axisTaps(outH, map[4], map[5], h);
  const cx0 = new Int32Array(outW), cx1 = new Int32Array(outW);
  for (let u = 0; u < outW; u++) {
    cx0[u] = cx.i0[u] >> 1;
    cx1[u] = cx.i1[u] >> 1;
  }
  let o = 0;
  for (let v = 0; v < outH; v++) {
    const wy0 = cy.w0[v], wy1 = cy.w1[v];
    const y0 = cy.i0[v] * w, y1 = cy.i1[v] * w;
    const c0 = (cy.i0[v] >> 1) * cw, c1 = (cy.i1[v] >> 1) * cw;
    for (let u = 0; u < outW; u++, o += 3) {
      const wx0 = cx.w0[u], wx1 = cx.w1[u];
      const a00 = wx0 * wy0, a10 = wx1 * wy0, a01 = wx0 * wy1, a11 = wx1 * wy1;
      const sum = a00 + a10 + a01 + a11;
      if (sum === 0) continue; // wholly outside: black
      const x0 = cx.i0[u], x1 = cx.i1[u], u0 = cx0[u], u1 = cx1[u];
      // Y-16 and chroma-128 are blended with the tap weights; missing taps (outside) count as black
      const l = a00 * data[y0 + x0] + a10 * data[y0 + x1] + a01 * data[y1 + x0] + a11 * data[y1 + x1] - 16 * sum;
      const cu = a00 * data[uOff + c0 + u0] + a10 * data[uOff + c0 + u1] + a01 * data[uOff + c1 + u0] + a11 * data[uOff + c1 + u1] - 128 * sum;
      const cv = a00 * data[vOff + c0 + u0] + a10 * data[vOff + c0 + u1] + a01 * data[vOff + c1 + u0] + a11 * data[vOff + c1 + u1] - 128 * sum;
      putRgb(out, o, k, l, cu, cv);
    }
  }
  return out;
}

/** General affine (rotation, for aligned crops): one bilinear sample per output pixel. */
function warpBilinear(src: Yuv420Image, map: Affine, outW: number, outH: number): Buffer {
  const { width: w, height: h, data } = src;
  const { cw, uOff, vOff } = yuvPlanes(src);
  const k = YUV_COEFFICIENTS[src.matrix];
  const out = Buffer.alloc(outW * outH * 3);
  const [a, b, c, d, e, f] = map;
  let o = 0;
  for (let v = 0; v < outH; v++) {
    const vv = v + 0.5;
    for (let u = 0; u < outW; u++, o += 3) {
      const uu = u + 0.5;
      const x = a * uu + b * vv + c - 0.5;
      const y = d * uu + e * vv + f - 0.5;
      const x0 = Math.floor(x), y0 = Math.floor(y);
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) continue;
      const fx = x - x0, fy = y - y0;
      const inX0 = x0 >= 0, inX1 = x0 + 1 < w, inY0 = y0 >= 0, inY1 = y0 + 1 < h;
      const w00 = inX0 && inY0 ? (1 - fx) * (1 - fy) : 0;
      const w10 = inX1 && inY0 ? fx * (1 - fy) : 0;
      const w01 = inX0 && inY1 ? (1 - fx) * fy : 0;
      const w11 = inX1 && inY1 ? fx * fy : 0;
      // clamp indices so reads stay inside; their weights are 0 when outside
      const xa = Math.max(x0, 0), xb = Math.min(x0 + 1, w - 1), ya = Math.max(y0, 0), yb = Math.min(y0 + 1, h - 1);
      const sum = w00 + w10 + w01 + w11;
      const ra = ya * w, rb = yb * w, ca = (ya >> 1) * cw, cb = (yb >> 1) * cw, ua = xa >> 1, ub = xb >> 1;
      const l = w00 * data[ra + xa] + w10 * data[ra + xb] + w01 * data[rb + xa] + w11 * data[rb + xb] - 16 * sum;
      const cu = w00 * data[uOff + ca + ua] + w10 * data[uOff + ca + ub] + w01 * data[uOff + cb + ua] + w11 * data[uOff + cb + ub] - 128 * sum;
      const cv = w00 * data[vOff + ca + ua] + w10 * data[vOff + ca + ub] + w01 * data[vOff + cb + ua] + w11 * data[vOff + cb + ub] - 128 * sum;
      putRgb(out, o, k, l, cu, cv);
    }
  }
  return out;
}

/** Writes one RGB pixel from blended (Y-16, U-128, V-128). */
function putRgb(out: Buffer, o: number, k: YuvCoefficients, l: number, cu: number, cv: number): void {
  const ly = k.ky * l;
  out[o] = clampByte(ly + k.rv * cv);
  out[o + 1] = clampByte(ly + k.gu * cu + k.gv * cv);
  out[o + 2] = clampByte(ly + k.bu * cu);
}
