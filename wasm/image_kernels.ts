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

