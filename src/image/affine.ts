/**
 * 2-D affine maps and an RGB warp with bilinear sampling. One warp serves every geometric step
 * (detector tiles, scale/margin crops, aligned crops), so crops at training and scan time are
 * cut by the same code.
 */
import type { Point } from '../types.js';
import { areaWarpRGB, isAxisAlignedShrink, splitRotatedShrink } from './area_resample.js';
import { bilinearWarpRGB } from './bilinear_warp.js';

/** Maps output pixel (u, v) to source pixel (x, y): x = a*u + b*v + c, y = d*u + e*v + f. */
export type Affine = readonly [a: number, b: number, c: number, d: number, e: number, f: number];

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (Math.abs(det) < 1e-12) throw new Error('affine map is not invertible');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** Output pixel -> source pixel for a source rectangle placed with uniform `scale` at `offset` in the output. */
export function scaleTranslate(scale: number, srcX: number, srcY: number, offsetU = 0, offsetV = 0): Affine {
  // source = (u - offsetU) / scale + srcX
  const s = 1 / scale;
  return [s, 0, srcX - offsetU * s, 0, s, srcY - offsetV * s];
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation) taking points `from`
 * onto points `to` (Umeyama without reflection). Returns the map from -> to.
 */
export function similarityFromPoints(from: Point[], to: Point[]): Affine {
  const n = from.length;
  let mfx = 0, mfy = 0, mtx = 0, mty = 0;
  for (let i = 0; i < n; i++) {
    mfx += from[i][0]; mfy += from[i][1]; mtx += to[i][0]; mty += to[i][1];
  }
  mfx /= n; mfy /= n; mtx /= n; mty /= n;
  let sxx = 0, sxy = 0, varF = 0;
  for (let i = 0; i < n; i++) {
    const fx = from[i][0] - mfx, fy = from[i][1] - mfy;
    const tx = to[i][0] - mtx, ty = to[i][1] - mty;
    sxx += fx * tx + fy * ty; // dot: cos part
    sxy += fx * ty - fy * tx; // cross: sin part
    varF += fx * fx + fy * fy;
  }
  if (varF < 1e-12) throw new Error('degenerate points for a similarity transform');
  const a = sxx / varF, b = sxy / varF; // scale*cos, scale*sin
  return [a, -b, mtx - (a * mfx - b * mfy), b, a, mty - (b * mfx + a * mfy)];
}

/** The linear scale of an affine map (geometric mean of its axis scales). */
export function affineScale(m: Affine): number {
  return Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
}

/**
 * Warps packed RGB. `map` takes output pixel centres to source pixel coordinates. Pixels that fall
 * outside the source are black. When the map shrinks the image by more than ~1.5x, each output pixel
 * is the average of the source area it covers (scale + translate maps, area_resample.ts; with a
 * rotation, the area under the output is averaged to about its scale first and then rotated), so
 * small crops do not alias.
 */
export function warpAffineRGB(
  src: Buffer,
  srcW: number,
  srcH: number,
  map: Affine,
  outW: number,
  outH: number,
): Buffer {
  if (map[0] === 1 && map[4] === 1 && map[1] === 0 && map[3] === 0 && Number.isInteger(map[2]) && Number.isInteger(map[5])) {
    return shiftRGB(src, srcW, srcH, map[2], map[5], outW, outH);
  }
  const ss = Math.max(1, Math.round(affineScale(map)));
  if (ss > 1 && isAxisAlignedShrink(map)) return areaWarpRGB(src, srcW, srcH, map, outW, outH);
  if (ss > 1 && map[1] === 0 && map[3] === 0) return warpSupersampled(src, srcW, srcH, map, outW, outH, ss);
  if (ss > 1) {
    // a rotating shrink (a rolled or turned face, a turned detector view): area-average the region, then rotate it
    const split = splitRotatedShrink(map, outW, outH);
    const mid = areaWarpRGB(src, srcW, srcH, split.area, split.width, split.height);
    return bilinearWarpRGB(mid, split.width, split.height, split.rest, outW, outH);
  }
  if (map[1] === 0 && map[3] === 0) return warpAxisAligned(src, srcW, srcH, map, outW, outH);
  return bilinearWarpRGB(src, srcW, srcH, map, outW, outH);
}

/** A whole-pixel shift (e.g. letterboxing the detector preview): row copies, black outside the source. */
function shiftRGB(src: Buffer, srcW: number, srcH: number, dx: number, dy: number, outW: number, outH: number): Buffer {
  const out = Buffer.alloc(outW * outH * 3);
  // output (u, v) reads source (u + dx, v + dy)
  const u0 = Math.max(0, -dx), u1 = Math.min(outW, srcW - dx);
  if (u1 <= u0) return out;
  for (let v = Math.max(0, -dy); v < Math.min(outH, srcH - dy); v++) {
    const s0 = ((v + dy) * srcW + u0 + dx) * 3;
    src.copy(out, (v * outW + u0) * 3, s0, s0 + (u1 - u0) * 3);
  }
  return out;
}

/**
 * Bilinear taps along one axis: the two source indices (clamped into range so reads never leave the
 * buffer) and their weights (0 for a tap outside the source, which pads with black).
 */
export function axisTaps(n: number, scale: number, offset: number, srcN: number) {
  const i0 = new Int32Array(n), i1 = new Int32Array(n), w0 = new Float32Array(n), w1 = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const x = scale * (k + 0.5) + offset - 0.5;
    const f = Math.floor(x), fr = x - f;
    i0[k] = Math.min(Math.max(f, 0), srcN - 1);
    i1[k] = Math.min(Math.max(f + 1, 0), srcN - 1);
    w0[k] = f >= 0 && f < srcN ? 1 - fr : 0;
    w1[k] = f + 1 >= 0 && f + 1 < srcN ? fr : 0;
  }
  return { i0, i1, w0, w1 };
}

/** Scale + translate only (no rotation): separable taps computed once per row and column, branch-free inner loop. */
function warpAxisAligned(srcBuf: Buffer, srcW: number, srcH: number, map: Affine, outW: number, outH: number): Buffer {
  const outBuf = Buffer.alloc(outW * outH * 3);
  const src = new Uint8Array(srcBuf.buffer, srcBuf.byteOffset, srcBuf.length);
  const out = new Uint8Array(outBuf.buffer, outBuf.byteOffset, outBuf.length);
  const cx = axisTaps(outW, map[0], map[2], srcW), cy = axisTaps(outH, map[4], map[5], srcH);
  const c0s = new Int32Array(outW), c1s = new Int32Array(outW);
  for (let u = 0; u < outW; u++) {
    c0s[u] = cx.i0[u] * 3;
    c1s[u] = cx.i1[u] * 3;
  }
  const stride = srcW * 3;
  let oo = 0;
  for (let v = 0; v < outH; v++) {
    const wy0 = cy.w0[v], wy1 = cy.w1[v];
    const row0 = cy.i0[v] * stride, row1 = cy.i1[v] * stride;
    for (let u = 0; u < outW; u++, oo += 3) {
      const wx0 = cx.w0[u], wx1 = cx.w1[u];
      const p00 = row0 + c0s[u], p10 = row0 + c1s[u], p01 = row1 + c0s[u], p11 = row1 + c1s[u];
      const a00 = wx0 * wy0, a10 = wx1 * wy0, a01 = wx0 * wy1, a11 = wx1 * wy1;
      // +0.5 rounds: typed-array stores truncate
      out[oo] = a00 * src[p00] + a10 * src[p10] + a01 * src[p01] + a11 * src[p11] + 0.5;
      out[oo + 1] = a00 * src[p00 + 1] + a10 * src[p10 + 1] + a01 * src[p01 + 1] + a11 * src[p11 + 1] + 0.5;
      out[oo + 2] = a00 * src[p00 + 2] + a10 * src[p10 + 2] + a01 * src[p01 + 2] + a11 * src[p11 + 2] + 0.5;
    }
  }
  return outBuf;
}

/**
 * Averages an ss x ss grid of bilinear samples per output pixel (downscaling without aliasing), for
 * the axis-aligned shrinks area_resample.ts does not take (mirroring ones).
 */
function warpSupersampled(
  src: Buffer,
  srcW: number,
  srcH: number,
  map: Affine,
  outW: number,
  outH: number,
  ss: number,
): Buffer {
  // Sample densely at ss x the output size, then box-average: same bilinear kernel as the fast path.
  return boxAverage(warpAxisAligned(src, srcW, srcH, fineMap(map, ss), outW * ss, outH * ss), outW, outH, ss);
}

/** The map for sampling at `ss` times the output resolution. */
export function fineMap(map: Affine, ss: number): Affine {
  const [a, b, c, d, e, f] = map;
  return [a / ss, b / ss, c, d / ss, e / ss, f];
}

/** Packed RGB of (outW*ss) x (outH*ss) -> outW x outH, each output pixel the mean of its ss x ss block. */
export function boxAverage(big: Buffer, outW: number, outH: number, ss: number): Buffer {
  const out = Buffer.alloc(outW * outH * 3);
  const bigStride = outW * ss * 3;
  const norm = 1 / (ss * ss);
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (let sv = 0; sv < ss; sv++) {
          let o = (v * ss + sv) * bigStride + u * ss * 3 + ch;
          for (let su = 0; su < ss; su++, o += 3) acc += big[o];
        }
        out[(v * outW + u) * 3 + ch] = acc * norm + 0.5;
      }
    }
  }
  return out;
}
