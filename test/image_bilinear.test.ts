/**
 * The WebAssembly bilinear warps (bilinear_warp.ts) against float64 reference loops written here:
 * one bilinear sample per output pixel, taps outside the source weighing 0 (black), YUV blended as
 * Y-16 / chroma-128 before the conversion. The kernels compute groups of 4 inside pixels in float32,
 * so a value may differ by one level; anything more is a bug.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Affine } from '../src/image/affine.js';
import { bilinearWarpRGB, bilinearWarpYuv420, tapRegion } from '../src/image/bilinear_warp.js';
import { clampByte, YUV_COEFFICIENTS, yuv420Bytes, yuvPlanes } from '../src/image/yuv.js';
import type { YuvImage } from '../src/types.js';

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

function noiseYuv(w: number, h: number, seed = 1): YuvImage {
  const img: YuvImage = { format: 'yuv420p', width: w, height: h, data: Buffer.alloc(yuv420Bytes(w, h)), matrix: 'bt709' };
  const r = seeded(seed);
  for (let i = 0; i < img.data.length; i++) img.data[i] = Math.floor(r() * 256);
  return img;
}

/** The four taps of output pixel (u, v) and their weights, 0 for a tap outside a w x h source; null when all are. */
function taps(map: Affine, u: number, v: number, w: number, h: number) {
  const [a, b, c, d, e, f] = map;
  const x = a * (u + 0.5) + b * (v + 0.5) + c - 0.5, y = d * (u + 0.5) + e * (v + 0.5) + f - 0.5;
  const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
  if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) return null;
  const inside = (xx: number, yy: number) => xx >= 0 && yy >= 0 && xx < w && yy < h;
  return [
    [x0, y0, inside(x0, y0) ? (1 - fx) * (1 - fy) : 0],
    [x0 + 1, y0, inside(x0 + 1, y0) ? fx * (1 - fy) : 0],
    [x0, y0 + 1, inside(x0, y0 + 1) ? (1 - fx) * fy : 0],
    [x0 + 1, y0 + 1, inside(x0 + 1, y0 + 1) ? fx * fy : 0],
  ] as const;
}

function referenceYuv(img: YuvImage, map: Affine, outW: number, outH: number): Buffer {
  const { width: w, height: h, data } = img;
  const { cw, uOff, vOff } = yuvPlanes(img);
  const k = YUV_COEFFICIENTS[img.matrix];
  const out = Buffer.alloc(outW * outH * 3);
  for (let v = 0; v < outH; v++)
    for (let u = 0; u < outW; u++) {
      const t = taps(map, u, v, w, h);
      if (!t) continue;
      let l = 0, cu = 0, cv = 0;
      for (const [x, y, wt] of t) {
        if (!wt) continue;
        const c = (y >> 1) * cw + (x >> 1);
        l += wt * (data[y * w + x] - 16);
        cu += wt * (data[uOff + c] - 128);
        cv += wt * (data[vOff + c] - 128);
      }
      const o = (v * outW + u) * 3;
      out[o] = clampByte(k.ky * l + k.rv * cv);
      out[o + 1] = clampByte(k.ky * l + k.gu * cu + k.gv * cv);
      out[o + 2] = clampByte(k.ky * l + k.bu * cu);
    }
  return out;
}

function referenceRgb(src: Buffer, w: number, h: number, map: Affine, outW: number, outH: number): Buffer {
  const out = Buffer.alloc(outW * outH * 3);
  for (let v = 0; v < outH; v++)
    for (let u = 0; u < outW; u++) {
      const t = taps(map, u, v, w, h);
      if (!t) continue;
      for (let ch = 0; ch < 3; ch++) {
        let acc = 0;
        for (const [x, y, wt] of t) if (wt) acc += wt * src[(y * w + x) * 3 + ch];
        out[(v * outW + u) * 3 + ch] = acc + 0.5;
      }
    }
  return out;
}

/** Largest difference, and the share of values that differ at all. */
function compare(a: Buffer, b: Buffer): { worst: number; share: number } {
  assert.equal(a.length, b.length);
  let worst = 0, differ = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) differ++;
    worst = Math.max(worst, d);
  }
  return { worst, share: differ / a.length };
}

/** A map turning by `angle` and scaling by `scale` about output centre -> source point (cx, cy). */
function turnAbout(angle: number, scale: number, cx: number, cy: number, out: number): Affine {
  const a = scale * Math.cos(angle), b = -scale * Math.sin(angle), d = scale * Math.sin(angle), e = scale * Math.cos(angle);
  return [a, b, cx - (a + b) * (out / 2), d, e, cy - (d + e) * (out / 2)];
}

test('both warps match float64 bilinear sampling within one level, inside, across and off every edge', () => {
  const r = seeded(7);
  const img = noiseYuv(181, 117);
  const rgb = Buffer.from(noiseYuv(181, 117 * 3, 2).data.subarray(0, 181 * 117 * 3));
  for (let t = 0; t < 40; t++) {
    // odd output sides exercise the per-pixel tail of each row; centres up to 40 px outside the frame
    const out = [37, 64, 99, 130][t % 4];
    const map = turnAbout((r() * 2 - 1) * Math.PI, 0.5 + r(), r() * 261 - 40, r() * 197 - 40, out);
    const yuv = compare(bilinearWarpYuv420(img, map, out, out), referenceYuv(img, map, out, out));
    const packed = compare(bilinearWarpRGB(rgb, 181, 117, map, out, out), referenceRgb(rgb, 181, 117, map, out, out));
    for (const [name, c] of [['yuv', yuv], ['rgb', packed]] as const) {
      assert.ok(c.worst <= 1, `${name} map ${t}: max diff ${c.worst}`);
      assert.ok(c.share < 0.01, `${name} map ${t}: ${(100 * c.share).toFixed(2)}% of values differ`);
    }
  }
});

test('upright maps (no rotation) match too: the scan cuts most crops at about the frame scale this way', () => {
  const img = noiseYuv(320, 240, 3);
  for (const [s, x, y] of [[1, 10, 20], [1.17, 40.3, 12.7], [0.62, -15.5, 100.25]]) {
    const map: Affine = [s, 0, x, 0, s, y];
    const c = compare(bilinearWarpYuv420(img, map, 160, 160), referenceYuv(img, map, 160, 160));
    assert.ok(c.worst <= 1 && c.share < 0.01, `scale ${s}: max diff ${c.worst}, ${(100 * c.share).toFixed(2)}% differ`);
  }
});

test('a turned whole large frame goes through in bands and matches the reference', () => {
  // 2400 x 2000 luma is more than one band (4 MB): a quarter turn reads it column band by column band
  const img = noiseYuv(2400, 2000, 4);
  const map: Affine = [0, 1, 0, -1, 0, 2400]; // output (u, v) <- source (v, 2400 - u): a quarter turn
  const c = compare(bilinearWarpYuv420(img, map, 2000, 2400), referenceYuv(img, map, 2000, 2400));
  assert.ok(c.worst <= 1 && c.share < 0.01, `max diff ${c.worst}, ${(100 * c.share).toFixed(2)}% differ`);
});

test('a map that lands wholly outside the source gives black', () => {
  const img = noiseYuv(64, 48, 5);
  for (const map of [[1, 0, 500, 0, 1, 0], [1, 0, -300, 0, 1, 10], turnAbout(0.7, 1, 40, -200, 32)] as Affine[]) {
    assert.ok(bilinearWarpYuv420(img, map, 32, 32).every((x) => x === 0));
    assert.ok(bilinearWarpRGB(Buffer.alloc(64 * 48 * 3, 200), 64, 48, map, 32, 32).every((x) => x === 0));
  }
});

test('tapRegion holds every tap of its output rows, starts on even coordinates and stays inside the source', () => {
  const r = seeded(11);
  for (let t = 0; t < 200; t++) {
    const w = 50 + Math.floor(r() * 200), h = 50 + Math.floor(r() * 200), out = 1 + Math.floor(r() * 90);
    const map = turnAbout((r() * 2 - 1) * Math.PI, 0.3 + 2 * r(), r() * w * 1.6 - 0.3 * w, r() * h * 1.6 - 0.3 * h, out);
    const v0 = Math.floor(r() * out), v1 = v0 + 1 + Math.floor(r() * (out - v0));
    const reg = tapRegion(map, out, v0, v1, w, h);
    assert.ok(reg.x0 % 2 === 0 && reg.y0 % 2 === 0 && reg.x0 >= 0 && reg.y0 >= 0 && reg.x1 <= w && reg.y1 <= h);
    for (let v = v0; v < v1; v++)
      for (let u = 0; u < out; u++)
        for (const [x, y, wt] of taps(map, u, v, w, h) ?? [])
          if (wt > 0) assert.ok(x >= reg.x0 && x < reg.x1 && y >= reg.y0 && y < reg.y1, `map ${t}: tap (${x}, ${y}) outside ${JSON.stringify(reg)}`);
  }
});
