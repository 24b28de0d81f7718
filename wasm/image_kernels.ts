/**
 * AssemblyScript, compiled by `npm run build` to dist/wasm/image_kernels.wasm and loaded by
 * src/image/image_kernels.ts: the passes of the area-averaging crop warp (src/image/area_resample.ts
 * says what they compute). In JavaScript they were the largest part of cutting a scan's face crops;
 * here the vertical pass takes 16 source bytes per step with 128-bit SIMD and the YUV -> RGB
 * conversion 4 pixels per step.
 *
 * Every pointer is a byte offset into the memory the caller owns (imported, never grown here).
 * Taps: per output index, the first source index, the count, and `max` f32 weights per index.
 */

// --- area average -------------------------------------------------------------------------

/** Bytes 4*lane .. 4*lane+3 of a, as f32 lanes. */
@inline function widen(a: v128, lane: i32): v128 {
  if (lane == 0) return f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(a)));
  if (lane == 1) return f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(i16x8.extend_low_i8x16_u(a)));
  if (lane == 2) return f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(i16x8.extend_high_i8x16_u(a)));
  return f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(i16x8.extend_high_i8x16_u(a)));
}

/**
 * Vertical pass of one output row: row[x] = sum over taps t of w[t] * src[(first + t) * stride + x]
 * for x < cols rounded up to 16 (the region's rows are padded to a multiple of 16 bytes).
 */
function verticalPass(src: usize, stride: i32, cols: i32, weights: usize, taps: i32, row: usize): void {
  for (let x: i32 = 0; x < cols; x += 16) {
    let r0 = f32x4.splat(0), r1 = f32x4.splat(0), r2 = f32x4.splat(0), r3 = f32x4.splat(0);
    let p = src + <usize>x;
    for (let t: i32 = 0; t < taps; t++, p += <usize>stride) {
      const w = f32x4.splat(load<f32>(weights + (<usize>t << 2)));
      const a = v128.load(p);
      r0 = f32x4.add(r0, f32x4.mul(w, widen(a, 0)));
      r1 = f32x4.add(r1, f32x4.mul(w, widen(a, 1)));
      r2 = f32x4.add(r2, f32x4.mul(w, widen(a, 2)));
      r3 = f32x4.add(r3, f32x4.mul(w, widen(a, 3)));
    }
    const o = row + (<usize>x << 2);
    v128.store(o, r0);
    v128.store(o, r1, 16);
    v128.store(o, r2, 32);
    v128.store(o, r3, 48);
  }
}

/**
 * Area-averages a region of `channels` (1 or 3) interleaved 8-bit channels into f32 output rows
 * [v0, v1) of an outW-wide image at `out`. The region holds source rows from `rowBase` on (taps'
 * first indices are relative to the region, rows to `rowBase`), `stride` bytes apart (a multiple of
 * 16, with readable padding); `row` is scratch for stride f32.
 */
export function areaResample(
  src: usize, stride: i32, cols: i32, channels: i32, rowBase: i32,
  yFirst: usize, yCount: usize, yWeights: usize, yMax: i32,
  xFirst: usize, xCount: usize, xWeights: usize, xMax: i32,
  outW: i32, v0: i32, v1: i32, row: usize, out: usize,
): void {
  for (let v = v0; v < v1; v++) {
    const first = load<i32>(yFirst + (<usize>v << 2)) - rowBase;
    const taps = load<i32>(yCount + (<usize>v << 2));
    verticalPass(src + <usize>(first * stride), stride, cols, yWeights + (<usize>(v * yMax) << 2), taps, row);
    let o = out + (<usize>(v * outW * channels) << 2);
    if (channels == 1) {
      for (let u: i32 = 0; u < outW; u++, o += 4) {
        const n = load<i32>(xCount + (<usize>u << 2));
        const w = xWeights + (<usize>(u * xMax) << 2);
        const r = row + (<usize>load<i32>(xFirst + (<usize>u << 2)) << 2);
        let acc: f32 = 0;
        for (let t: usize = 0; t < <usize>n; t++) acc += load<f32>(w + (t << 2)) * load<f32>(r + (t << 2));
        store<f32>(o, acc);
      }
    } else {
      for (let u: i32 = 0; u < outW; u++, o += 12) {
        const n = load<i32>(xCount + (<usize>u << 2));
        const w = xWeights + (<usize>(u * xMax) << 2);
        let r = row + (<usize>(load<i32>(xFirst + (<usize>u << 2)) * 3) << 2);
        let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0;
        for (let t: usize = 0; t < <usize>n; t++, r += 12) {
          const wt = load<f32>(w + (t << 2));
          a0 += wt * load<f32>(r);
          a1 += wt * load<f32>(r, 4);
          a2 += wt * load<f32>(r, 8);
        }
        store<f32>(o, a0);
        store<f32>(o, a1, 4);
        store<f32>(o, a2, 8);
      }
    }
  }
}

// --- to bytes -----------------------------------------------------------------------------

/** Rounds 4 floats half up and clamps them to 0-255, as i32 lanes (clampByte of yuv.ts). */
@inline function toByteLanes(x: v128): v128 {
  const r = f32x4.floor(f32x4.add(x, f32x4.splat(0.5)));
  return i32x4.trunc_sat_f32x4_s(f32x4.min(f32x4.max(r, f32x4.splat(0)), f32x4.splat(255)));
}

/** n floats at `src` -> n bytes at `dst` (rounded, clamped); reads and writes up to 15 past n. */
export function floatsToBytes(src: usize, n: i32, dst: usize): void {
  for (let i: i32 = 0; i < n; i += 16) {
    const s = src + (<usize>i << 2);
    const a = toByteLanes(v128.load(s)), b = toByteLanes(v128.load(s, 16));
    const c = toByteLanes(v128.load(s, 32)), d = toByteLanes(v128.load(s, 48));
    v128.store(dst + <usize>i, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(a, b), i16x8.narrow_i32x4_s(c, d)));
  }
}

/**
 * Area-averaged planes (Y, U, V as f32, outW x outH each) -> packed RGB bytes. Y-16 and chroma-128
 * were averaged with the area weights, so a pixel partly outside the frame fades to black:
 * txSum/tySum (luma) and cxSum/cySum (chroma) are the weights' sums per column and row. Reads up to
 * 3 floats past each plane's end and writes up to 4 bytes past the output's end.
 */
export function yuvToRgb(
  Y: usize, U: usize, V: usize, txSum: usize, tySum: usize, cxSum: usize, cySum: usize,
  ky: f32, rv: f32, gu: f32, gv: f32, bu: f32, outW: i32, outH: i32, rgb: usize,
): void {
  const KY = f32x4.splat(ky), RV = f32x4.splat(rv), GU = f32x4.splat(gu), GV = f32x4.splat(gv), BU = f32x4.splat(bu);
  for (let v: i32 = 0; v < outH; v++) {
    const ty = f32x4.splat(load<f32>(tySum + (<usize>v << 2)));
    const cy = f32x4.splat(load<f32>(cySum + (<usize>v << 2)));
    const base = <usize>(v * outW);
    for (let u: i32 = 0; u < outW; u += 4) {
      const i = (base + <usize>u) << 2;
      const lum = f32x4.sub(v128.load(Y + i), f32x4.mul(f32x4.splat(16), f32x4.mul(v128.load(txSum + (<usize>u << 2)), ty)));
      const l = f32x4.mul(KY, lum);
      const cs = f32x4.mul(f32x4.splat(128), f32x4.mul(v128.load(cxSum + (<usize>u << 2)), cy));
      const cu = f32x4.sub(v128.load(U + i), cs), cv = f32x4.sub(v128.load(V + i), cs);
      const r = toByteLanes(f32x4.add(l, f32x4.mul(RV, cv)));
      const g = toByteLanes(f32x4.add(l, f32x4.add(f32x4.mul(GU, cu), f32x4.mul(GV, cv))));
      const b = toByteLanes(f32x4.add(l, f32x4.mul(BU, cu)));
      // bytes r0-3 g0-3 b0-3, then interleaved r0 g0 b0 r1 ...; the 4 bytes after pixel 3 are
      // overwritten by the next step (or are the output's padding)
      const packed = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(r, g), i16x8.narrow_i32x4_s(b, b));
      v128.store(rgb + (base + <usize>u) * 3, i8x16.shuffle(packed, packed, 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13, 14, 15));
    }
  }
}


// --- bilinear warp --------------------------------------------------------------------------
// One bilinear sample per output pixel of an affine map (crops at about the frame's scale, rotated
// crops, upscales). Groups of 4 output pixels whose taps all lie inside the frame run as float32
// lanes, each lane's reads gathered as 16- or 32-bit loads (a tap pair, or a pixel's R, G, B); the
// rest (edges, a row's tail) run one pixel at a time in float64, as the JavaScript loops did. The
// cost of a scalar version was the gathered reads, not the arithmetic: here there are a quarter as
// many. Coordinates are the frame's: the caller copies the region the taps can reach, from (ox, oy)
// on, and passes the frame's size, so taps outside it weigh 0 (black), as everywhere in src/image.

// The taps of a group of 4 output pixels on the vector path, set by groupTaps (module globals, as
// for pixelTaps): each lane's top-left tap and its four weights.
let gx0: v128 = i32x4.splat(0), gy0: v128 = i32x4.splat(0);
let gw00: v128 = f32x4.splat(0), gw10: v128 = f32x4.splat(0), gw01: v128 = f32x4.splat(0), gw11: v128 = f32x4.splat(0);

/**
 * Sets the taps of output pixels u..u+3 of a row, at x = a*(u+0.5) + xr, y = d*(u+0.5) + yr (xr, yr:
 * the row's part of the map, less the half pixel, as in pixelTaps). False unless every lane's four
 * taps lie inside the frame (top-left tap below xMax, yMax: the frame's last column and row); such a
 * group goes pixel by pixel.
 */
@inline function groupTaps(u: i32, a: f64, d: f64, xr: f64, yr: f64, xMax: v128, yMax: v128): bool {
  const uu = f32x4.add(f32x4.splat(<f32>u), f32x4(0.5, 1.5, 2.5, 3.5));
  const x = f32x4.add(f32x4.mul(f32x4.splat(<f32>a), uu), f32x4.splat(<f32>xr));
  const y = f32x4.add(f32x4.mul(f32x4.splat(<f32>d), uu), f32x4.splat(<f32>yr));
  const xf = f32x4.floor(x), yf = f32x4.floor(y);
  gx0 = i32x4.trunc_sat_f32x4_s(xf);
  gy0 = i32x4.trunc_sat_f32x4_s(yf);
  if (!v128.all_true<i32>(v128.and(i32x4.lt_u(gx0, xMax), i32x4.lt_u(gy0, yMax)))) return false;
  const fx = f32x4.sub(x, xf), fy = f32x4.sub(y, yf);
  const one = f32x4.splat(1);
  const ux = f32x4.sub(one, fx), uy = f32x4.sub(one, fy);
  gw00 = f32x4.mul(ux, uy); gw10 = f32x4.mul(fx, uy); gw01 = f32x4.mul(ux, fy); gw11 = f32x4.mul(fx, fy);
  return true;
}

/** Bilinear YUV 4:2:0 -> packed RGB, output rows [v0, v1); (ox, oy) even. */
export function bilinearYuv(
  Y: usize, yStride: i32, U: usize, V: usize, cStride: i32, ox: i32, oy: i32, w: i32, h: i32,
  a: f64, b: f64, c: f64, d: f64, e: f64, f: f64,
  ky: f64, rv: f64, gu: f64, gv: f64, bu: f64, outW: i32, v0: i32, v1: i32, rgb: usize,
): void {
  const KY = f32x4.splat(<f32>ky), RV = f32x4.splat(<f32>rv), GU = f32x4.splat(<f32>gu), GV = f32x4.splat(<f32>gv), BU = f32x4.splat(<f32>bu);
  const B255 = i32x4.splat(255);
  // a group of 4 pixels takes the vector path when all of its taps lie inside the frame
  const xMax = i32x4.splat(w - 1), yMax = i32x4.splat(h - 1);
  for (let v = v0; v < v1; v++) {
    const vv = <f64>v + 0.5;
    const row = rgb + <usize>((v - v0) * outW * 3);
    const xr = b * vv + c - 0.5, yr = e * vv + f - 0.5;
    let u: i32 = 0;
    for (; u + 4 <= outW; u += 4) {
      if (!groupTaps(u, a, d, xr, yr, xMax, yMax)) {
        bilinearYuvPixels(Y, yStride, U, V, cStride, ox, oy, w, h, a, b, c, d, e, f, ky, rv, gu, gv, bu, u, u + 4, vv, row);
        continue;
      }
      const x0 = gx0, y0 = gy0, w00 = gw00, w10 = gw10, w01 = gw01, w11 = gw11;
      // per lane: the two luma rows' tap pairs, and the chroma pairs (the second chroma sample is the
      // next one only when x0 is odd; the second chroma row is the next one only when y0 is odd)
      const lumaAt = i32x4.add(i32x4.mul(i32x4.sub(y0, i32x4.splat(oy)), i32x4.splat(yStride)), i32x4.sub(x0, i32x4.splat(ox)));
      const lt = gather16(i32x4.add(lumaAt, i32x4.splat(<i32>Y))), lb = gather16(i32x4.add(lumaAt, i32x4.splat(<i32>Y + yStride)));
      const CS = i32x4.splat(cStride);
      const cx = i32x4.sub(i32x4.shr_s(x0, 1), i32x4.splat(ox >> 1));
      const cTop = i32x4.add(i32x4.mul(i32x4.sub(i32x4.shr_s(y0, 1), i32x4.splat(oy >> 1)), CS), cx);
      const cBottom = i32x4.add(i32x4.mul(i32x4.sub(i32x4.shr_s(i32x4.add(y0, i32x4.splat(1)), 1), i32x4.splat(oy >> 1)), CS), cx);
      const ut = gather16(i32x4.add(cTop, i32x4.splat(<i32>U))), ub = gather16(i32x4.add(cBottom, i32x4.splat(<i32>U)));
      const vt = gather16(i32x4.add(cTop, i32x4.splat(<i32>V))), vb = gather16(i32x4.add(cBottom, i32x4.splat(<i32>V)));
      const oddX = v128.and(x0, i32x4.splat(1));
      const l = f32x4.sub(blend(w00, w10, w01, w11, lt, lb, B255, i32x4.splat(8)), f32x4.splat(16));
      const sh = i32x4.shl(oddX, 3); // 8 when odd: the pair's second byte, else its first again
      const cu = f32x4.sub(blend(w00, w10, w01, w11, ut, ub, B255, sh), f32x4.splat(128));
      const cv = f32x4.sub(blend(w00, w10, w01, w11, vt, vb, B255, sh), f32x4.splat(128));
      const ly = f32x4.mul(KY, l);
      const r = toByteLanes(f32x4.add(ly, f32x4.mul(RV, cv)));
      const g = toByteLanes(f32x4.add(ly, f32x4.add(f32x4.mul(GU, cu), f32x4.mul(GV, cv))));
      const bl = toByteLanes(f32x4.add(ly, f32x4.mul(BU, cu)));
      const packed = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(r, g), i16x8.narrow_i32x4_s(bl, bl));
      // 12 bytes of pixels, then 4 that the next group (or row, or the output's padding) overwrites
      v128.store(row + <usize>(u * 3), i8x16.shuffle(packed, packed, 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13, 14, 15));
    }
    if (u < outW) bilinearYuvPixels(Y, yStride, U, V, cStride, ox, oy, w, h, a, b, c, d, e, f, ky, rv, gu, gv, bu, u, outW, vv, row);
  }
}

/** The 16 bits at each lane's address, one per lane. */
@inline function gather16(at: v128): v128 {
  let r = i32x4.splat(<i32>load<u16>(<usize>i32x4.extract_lane(at, 0)));
  r = i32x4.replace_lane(r, 1, <i32>load<u16>(<usize>i32x4.extract_lane(at, 1)));
  r = i32x4.replace_lane(r, 2, <i32>load<u16>(<usize>i32x4.extract_lane(at, 2)));
  return i32x4.replace_lane(r, 3, <i32>load<u16>(<usize>i32x4.extract_lane(at, 3)));
}

/** w00 * top[0] + w10 * top[second] + w01 * bottom[0] + w11 * bottom[second], per lane, where each
 * of `top`, `bottom` holds two bytes and `second` is the shift (0 or 8) of the second tap. */
@inline function blend(w00: v128, w10: v128, w01: v128, w11: v128, top: v128, bottom: v128, mask: v128, second: v128): v128 {
  const t0 = f32x4.convert_i32x4_s(v128.and(top, mask)), b0 = f32x4.convert_i32x4_s(v128.and(bottom, mask));
  const t1 = f32x4.convert_i32x4_s(v128.and(shrLanes(top, second), mask)), b1 = f32x4.convert_i32x4_s(v128.and(shrLanes(bottom, second), mask));
  return f32x4.add(f32x4.add(f32x4.mul(w00, t0), f32x4.mul(w10, t1)), f32x4.add(f32x4.mul(w01, b0), f32x4.mul(w11, b1)));
}

/** Per-lane logical right shift by a per-lane count of 0 or 8. */
@inline function shrLanes(x: v128, by: v128): v128 {
  return v128.bitselect(i32x4.shr_u(x, 8), x, i32x4.ne(by, i32x4.splat(0)));
}

// The taps of one output pixel on the per-pixel path, set by pixelTaps: module globals, so the
// loops allocate nothing. Weights are 0 for taps outside the frame, whose reads are clamped in.
let w00: f64 = 0, w10: f64 = 0, w01: f64 = 0, w11: f64 = 0;
let xa: i32 = 0, xb: i32 = 0, ya: i32 = 0, yb: i32 = 0;

/** Sets the taps of output pixel centre (uu, vv) in a w x h frame; false when all four lie outside (the pixel is black). */
@inline function pixelTaps(uu: f64, vv: f64, a: f64, b: f64, c: f64, d: f64, e: f64, f: f64, w: i32, h: i32): bool {
  const x = a * uu + b * vv + c - 0.5;
  const y = d * uu + e * vv + f - 0.5;
  const xf = Math.floor(x), yf = Math.floor(y);
  const x0 = <i32>xf, y0 = <i32>yf;
  if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) return false;
  const fx = x - xf, fy = y - yf;
  const inX0 = x0 >= 0, inX1 = x0 + 1 < w, inY0 = y0 >= 0, inY1 = y0 + 1 < h;
  w00 = inX0 && inY0 ? (1 - fx) * (1 - fy) : 0.0;
  w10 = inX1 && inY0 ? fx * (1 - fy) : 0.0;
  w01 = inX0 && inY1 ? (1 - fx) * fy : 0.0;
  w11 = inX1 && inY1 ? fx * fy : 0.0;
  xa = max(x0, 0); xb = min(x0 + 1, w - 1); ya = max(y0, 0); yb = min(y0 + 1, h - 1);
  return true;
}

/** The scalar path of bilinearYuv for output pixels [u0, u1) of one row (edges and row tails). */
function bilinearYuvPixels(
  Y: usize, yStride: i32, U: usize, V: usize, cStride: i32, ox: i32, oy: i32, w: i32, h: i32,
  a: f64, b: f64, c: f64, d: f64, e: f64, f: f64,
  ky: f64, rv: f64, gu: f64, gv: f64, bu: f64, u0: i32, u1: i32, vv: f64, row: usize,
): void {
  const cox = ox >> 1, coy = oy >> 1;
  let o = row + <usize>(u0 * 3);
  for (let u = u0; u < u1; u++, o += 3) {
    if (!pixelTaps(<f64>u + 0.5, vv, a, b, c, d, e, f, w, h)) {
      store<u8>(o, 0); store<u8>(o, 0, 1); store<u8>(o, 0, 2);
      continue;
    }
    const sum = w00 + w10 + w01 + w11;
    const ra = Y + <usize>((ya - oy) * yStride), rb = Y + <usize>((yb - oy) * yStride);
    const pa = <usize>(xa - ox), pb = <usize>(xb - ox);
    const l = w00 * <f64>load<u8>(ra + pa) + w10 * <f64>load<u8>(ra + pb) + w01 * <f64>load<u8>(rb + pa) + w11 * <f64>load<u8>(rb + pb) - 16 * sum;
    const ca = <usize>(((ya >> 1) - coy) * cStride), cb = <usize>(((yb >> 1) - coy) * cStride);
    const ua = <usize>((xa >> 1) - cox), ub = <usize>((xb >> 1) - cox);
    const cu = w00 * <f64>load<u8>(U + ca + ua) + w10 * <f64>load<u8>(U + ca + ub) + w01 * <f64>load<u8>(U + cb + ua) + w11 * <f64>load<u8>(U + cb + ub) - 128 * sum;
    const cv = w00 * <f64>load<u8>(V + ca + ua) + w10 * <f64>load<u8>(V + ca + ub) + w01 * <f64>load<u8>(V + cb + ua) + w11 * <f64>load<u8>(V + cb + ub) - 128 * sum;
    const ly = ky * l;
    store<u8>(o, clampByte(ly + rv * cv));
    store<u8>(o, clampByte(ly + gu * cu + gv * cv), 1);
    store<u8>(o, clampByte(ly + bu * cu), 2);
  }
}

/** Bilinear packed RGB -> packed RGB, output rows [v0, v1). */
export function bilinearRgb(
  src: usize, stride: i32, ox: i32, oy: i32, w: i32, h: i32,
  a: f64, b: f64, c: f64, d: f64, e: f64, f: f64, outW: i32, v0: i32, v1: i32, out: usize,
): void {
  const B255 = i32x4.splat(255);
  const xMax = i32x4.splat(w - 1), yMax = i32x4.splat(h - 1);
  for (let v = v0; v < v1; v++) {
    const vv = <f64>v + 0.5;
    const row = out + <usize>((v - v0) * outW * 3);
    const xr = b * vv + c - 0.5, yr = e * vv + f - 0.5;
    let u: i32 = 0;
    for (; u + 4 <= outW; u += 4) {
      if (!groupTaps(u, a, d, xr, yr, xMax, yMax)) {
        bilinearRgbPixels(src, stride, ox, oy, w, h, a, b, c, d, e, f, u, u + 4, vv, row);
        continue;
      }
      const x0 = gx0, y0 = gy0, w00 = gw00, w10 = gw10, w01 = gw01, w11 = gw11;
      // each tap's R, G, B (and one byte more) as one 32-bit lane per output pixel
      const at = i32x4.add(
        i32x4.add(i32x4.mul(i32x4.sub(y0, i32x4.splat(oy)), i32x4.splat(stride)), i32x4.mul(i32x4.sub(x0, i32x4.splat(ox)), i32x4.splat(3))),
        i32x4.splat(<i32>src));
      const tl = gather32(at), tr = gather32(i32x4.add(at, i32x4.splat(3)));
      const below = i32x4.add(at, i32x4.splat(stride));
      const bl = gather32(below), br = gather32(i32x4.add(below, i32x4.splat(3)));
      const r = toByteLanes(blendChannel(w00, w10, w01, w11, tl, tr, bl, br, 0, B255));
      const g = toByteLanes(blendChannel(w00, w10, w01, w11, tl, tr, bl, br, 8, B255));
      const bb = toByteLanes(blendChannel(w00, w10, w01, w11, tl, tr, bl, br, 16, B255));
      const packed = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(r, g), i16x8.narrow_i32x4_s(bb, bb));
      v128.store(row + <usize>(u * 3), i8x16.shuffle(packed, packed, 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 13, 14, 15));
    }
    if (u < outW) bilinearRgbPixels(src, stride, ox, oy, w, h, a, b, c, d, e, f, u, outW, vv, row);
  }
}

/** The 32 bits at each lane's address, one per lane. */
@inline function gather32(at: v128): v128 {
  let r = i32x4.splat(load<i32>(<usize>i32x4.extract_lane(at, 0)));
  r = i32x4.replace_lane(r, 1, load<i32>(<usize>i32x4.extract_lane(at, 1)));
  r = i32x4.replace_lane(r, 2, load<i32>(<usize>i32x4.extract_lane(at, 2)));
  return i32x4.replace_lane(r, 3, load<i32>(<usize>i32x4.extract_lane(at, 3)));
}

/** The bilinear blend of the byte at bit `shift` of four taps' lanes. */
@inline function blendChannel(w00: v128, w10: v128, w01: v128, w11: v128, tl: v128, tr: v128, bl: v128, br: v128, shift: i32, mask: v128): v128 {
  return f32x4.add(
    f32x4.add(f32x4.mul(w00, byteAt(tl, shift, mask)), f32x4.mul(w10, byteAt(tr, shift, mask))),
    f32x4.add(f32x4.mul(w01, byteAt(bl, shift, mask)), f32x4.mul(w11, byteAt(br, shift, mask))));
}

/** The byte at bit `shift` of each lane, as f32. */
@inline function byteAt(t: v128, shift: i32, mask: v128): v128 {
  return f32x4.convert_i32x4_s(v128.and(i32x4.shr_u(t, shift), mask));
}

/** The scalar path of bilinearRgb for output pixels [u0, u1) of one row (edges and row tails). */
function bilinearRgbPixels(
  src: usize, stride: i32, ox: i32, oy: i32, w: i32, h: i32,
  a: f64, b: f64, c: f64, d: f64, e: f64, f: f64, u0: i32, u1: i32, vv: f64, row: usize,
): void {
  let o = row + <usize>(u0 * 3);
  for (let u = u0; u < u1; u++, o += 3) {
    if (!pixelTaps(<f64>u + 0.5, vv, a, b, c, d, e, f, w, h)) {
      store<u8>(o, 0); store<u8>(o, 0, 1); store<u8>(o, 0, 2);
      continue;
    }
    const ra = src + <usize>((ya - oy) * stride), rb = src + <usize>((yb - oy) * stride);
    const pa = ra + <usize>((xa - ox) * 3), pb = ra + <usize>((xb - ox) * 3);
    const qa = rb + <usize>((xa - ox) * 3), qb = rb + <usize>((xb - ox) * 3);
    for (let ch: usize = 0; ch < 3; ch++) {
      const acc = w00 * <f64>load<u8>(pa + ch) + w10 * <f64>load<u8>(pb + ch) + w01 * <f64>load<u8>(qa + ch) + w11 * <f64>load<u8>(qb + ch);
      store<u8>(o + ch, <u8>(<i32>(acc + 0.5)));
    }
  }
}

/** clampByte of src/image/yuv.ts. */
@inline function clampByte(x: f64): u8 {
  return x <= 0 ? 0 : x >= 255 ? 255 : <u8>(<i32>(x + 0.5));
}
