/** Area-averaging shrink warps (src/image/area_resample.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AreaTaps, areaTaps, areaWarpRGB, areaWarpYuv420, chromaTaps, splitRotatedShrink } from '../src/image/area_resample.js';
import { warpAffine } from '../src/image/warp.js';
import { scaleTranslate, warpAffineRGB } from '../src/image/affine.js';
import { clampByte, YUV_COEFFICIENTS, yuv420Bytes, yuv420ToRgb, yuvPlanes } from '../src/image/yuv.js';
import type { YuvImage } from '../src/types.js';
import { imageKernels } from '../src/image/image_kernels.js';

test('taps: weights cover the output pixel exactly, less where it leaves the source', () => {
  const t = areaTaps(4, 2.5, 0, 10);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(t.sum[k] - 1) < 1e-6, `sum ${t.sum[k]}`);
  // output 1 covers [2.5, 5): half of pixel 2, pixels 3 and 4
  assert.equal(t.first[1], 2);
  assert.deepEqual([...t.weights.subarray(t.maxTaps, t.maxTaps + 3)].map((w) => +w.toFixed(3)), [0.2, 0.4, 0.4]);
  const edge = areaTaps(2, 2, -1, 3); // [-1, 1) and [1, 3)
  assert.ok(Math.abs(edge.sum[0] - 0.5) < 1e-6);
  assert.ok(Math.abs(edge.sum[1] - 1) < 1e-6);
});

test('a 2x shrink averages each 2x2 block exactly; area outside the image is black', () => {
  const w = 4, h = 2;
  const src = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) src.set([i * 10, 100, 200 - i * 10], i * 3);
  const out = areaWarpRGB(src, w, h, scaleTranslate(0.5, 0, 0), 2, 1);
  // block 0: pixels 0, 1, 4, 5 -> red (0+10+40+50)/4 = 25
  assert.deepEqual([...out], [25, 100, 175, 45, 100, 155]);
  const shifted = areaWarpRGB(src, w, h, scaleTranslate(0.5, -2, 0), 2, 1); // left output half outside
  assert.deepEqual([...shifted.subarray(0, 3)], [0, 0, 0]);
});

test('YUV area warp equals the area warp of its RGB conversion', () => {
  const w = 98, h = 62;
  const img: YuvImage = { format: 'yuv420p', width: w, height: h, matrix: 'bt709', data: Buffer.alloc(yuv420Bytes(w, h)) };
  let s = 7;
  for (let i = 0; i < img.data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    img.data[i] = i < w * h ? 40 + ((s >>> 16) % 160) : 108 + ((s >>> 16) % 40);
  }
  const map = scaleTranslate(1 / 2.7, -6, -4); // shrink 2.7x, partly outside
  const a = areaWarpYuv420(img, map, 40, 26);
  const b = areaWarpRGB(yuv420ToRgb(img), w, h, map, 40, 26);
  let worst = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    worst = Math.max(worst, d);
    sum += d;
  }
  // conversion before or after averaging: rounding and the odd saturated channel only
  assert.ok(sum / a.length < 1, `mean diff ${sum / a.length}`);
  assert.ok(worst <= 8, `max diff ${worst}`);
});

test('the area warp agrees with the rotating-shrink path on a smooth image', () => {
  const w = 300, h = 300;
  const src = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src.set([x % 256, y % 256, ((x + y) / 2) % 256], (y * w + x) * 3);
  const map = scaleTranslate(1 / 3.3, 10, 20);
  const area = areaWarpRGB(src, w, h, map, 80, 80);
  const warp = warpAffineRGB(src, w, h, [map[0], 1e-12, map[2], 0, map[4], map[5]], 80, 80); // not axis-aligned: area, then rotate
  let sum = 0;
  for (let i = 0; i < area.length; i++) sum += Math.abs(area[i] - warp[i]);
  assert.ok(sum / area.length < 1.5, `mean diff ${sum / area.length}`);
});

test('a rotating shrink (area average, then one bilinear sample) is exact on a linear picture, RGB and YUV', () => {
  // linear in x and y: any area average equals the value at the area's centre, and bilinear sampling is exact;
  // what is left is rounding: of the picture, of the averaged middle step and of the output (half a level each)
  const w = 400, h = 300;
  const value = (x: number, y: number) => 20 + 0.4 * x + 0.2 * y; // at pixel centres, x = i + 0.5
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.fill(Math.round(value(x + 0.5, y + 0.5)), (y * w + x) * 3, (y * w + x) * 3 + 3);
  const theta = (35 * Math.PI) / 180, s = 2.6, out = 60;
  // output -> source: rotate by 35 degrees, scale 2.6, centred in the picture
  const map = [s * Math.cos(theta), -s * Math.sin(theta), 0, s * Math.sin(theta), s * Math.cos(theta), 0] as [number, number, number, number, number, number];
  map[2] = w / 2 - (map[0] + map[1]) * (out / 2);
  map[5] = h / 2 - (map[3] + map[4]) * (out / 2);
  const split = splitRotatedShrink(map, out, out);
  assert.ok(Math.abs(split.rest[0] ** 2 + split.rest[1] ** 2 - 1) < 1e-9, 'the rest of the map has scale 1');
  const grey: YuvImage = { format: 'yuv420p', width: w, height: h, matrix: 'bt601', data: Buffer.alloc(yuv420Bytes(w, h)) };
  const { uOff, vOff, cw } = yuvPlanes(grey);
  // grey in YUV: Y carries the value (Y = 16 + v / ky), chroma neutral
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) grey.data[y * w + x] = Math.round(16 + value(x + 0.5, y + 0.5) / YUV_COEFFICIENTS.bt601.ky);
  grey.data.fill(128, uOff, vOff + (vOff - uOff));
  assert.equal(cw, w / 2);
  for (const [name, got, tol] of [['rgb', warpAffineRGB(rgb, w, h, map, out, out), 1.5], ['yuv', warpAffine(grey, map, out, out), 2]] as const) {
    let worst = 0;
    for (let v = 0; v < out; v++)
      for (let u = 0; u < out; u++) {
        const x = map[0] * (u + 0.5) + map[1] * (v + 0.5) + map[2], y = map[3] * (u + 0.5) + map[4] * (v + 0.5) + map[5];
        worst = Math.max(worst, Math.abs(got[(v * out + u) * 3] - value(x, y)));
      }
    assert.ok(worst <= tol, `${name}: worst difference ${worst}`);
  }
});

/** Output (u, v) of one plane by the definition: the double sum of tap weights times source pixels. */
function naiveArea(data: Uint8Array, off: number, stride: number, tx: AreaTaps, ty: AreaTaps, u: number, v: number): number {
  let acc = 0;
  for (let j = 0; j < ty.count[v]; j++) {
    for (let i = 0; i < tx.count[u]; i++) {
      acc += ty.weights[v * ty.maxTaps + j] * tx.weights[u * tx.maxTaps + i] * data[off + (ty.first[v] + j) * stride + tx.first[u] + i];
    }
  }
  return acc;
}

test('YUV area warp equals the definition for every tap count (1-2 up to 7 source pixels per output pixel)', () => {
  const w = 200, h = 160;
  const img: YuvImage = { format: 'yuv420p', width: w, height: h, matrix: 'bt601', data: Buffer.alloc(yuv420Bytes(w, h)) };
  let s = 11;
  for (let i = 0; i < img.data.length; i++) img.data[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const { cw, ch, uOff, vOff } = yuvPlanes(img);
  const k = YUV_COEFFICIENTS.bt601;
  for (const shrink of [1.3, 1.9, 2.5, 3.4, 6.2]) {
    const outW = Math.floor(w / shrink) - 2, outH = Math.floor(h / shrink) - 2;
    const map = scaleTranslate(shrink, -1.5, 2.25); // partly outside on the left
    const out = areaWarpYuv420(img, map, outW, outH);
    const tx = areaTaps(outW, map[0], map[2], w), ty = areaTaps(outH, map[4], map[5], h);
    const cx = chromaTaps(tx, cw), cy = chromaTaps(ty, ch);
    let worst = 0;
    for (let v = 0; v < outH; v++) {
      for (let u = 0; u < outW; u++) {
        const l = k.ky * (naiveArea(img.data, 0, w, tx, ty, u, v) - 16 * tx.sum[u] * ty.sum[v]);
        const cs = cx.sum[u] * cy.sum[v];
        const cu = naiveArea(img.data, uOff, cw, cx, cy, u, v) - 128 * cs, cv = naiveArea(img.data, vOff, cw, cx, cy, u, v) - 128 * cs;
        const ref = [clampByte(l + k.rv * cv), clampByte(l + k.gu * cu + k.gv * cv), clampByte(l + k.bu * cu)];
        for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(out[(v * outW + u) * 3 + c] - ref[c]));
      }
    }
    // the separable sums differ from the double sum by float rounding only
    assert.ok(worst <= 1, `shrink ${shrink}: max diff ${worst}`);
  }
});

test('warps give the same pixels whatever ran before them (their float planes are reused from call to call)', () => {
  const noisy = (w: number, h: number, seed: number) => {
    const img: YuvImage = { format: 'yuv420p', width: w, height: h, matrix: 'bt601', data: Buffer.alloc(yuv420Bytes(w, h)) };
    let s = seed;
    for (let i = 0; i < img.data.length; i++) img.data[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    return img;
  };
  const small = noisy(40, 30, 1), big = noisy(300, 200, 2);
  const smallMap = scaleTranslate(1 / 2.5, -3, -2);
  const first = areaWarpYuv420(small, smallMap, 14, 12);
  const firstRgb = areaWarpRGB(yuv420ToRgb(small), 40, 30, smallMap, 14, 12);
  // a bigger warp fills the reused planes with other values; a region wholly outside the image is black
  areaWarpYuv420(big, scaleTranslate(1 / 3, 0, 0), 100, 66);
  areaWarpRGB(yuv420ToRgb(big), 300, 200, scaleTranslate(1 / 3, 0, 0), 100, 66);
  assert.deepEqual([...areaWarpYuv420(small, scaleTranslate(1 / 2.5, 500, 500), 14, 12)], new Array(14 * 12 * 3).fill(0));
  assert.deepEqual(areaWarpYuv420(small, smallMap, 14, 12), first);
  assert.deepEqual(areaWarpRGB(yuv420ToRgb(small), 40, 30, smallMap, 14, 12), firstRgb);
});

test('a picture larger than one band of rows is averaged band by band, as the definition says, in bounded memory', () => {
  // 4000 x 2000 RGB is 24 MB of rows: the kernels copy it in bands of about 4 MB
  const w = 4000, h = 2000;
  const src = Buffer.alloc(w * h * 3);
  let s = 3;
  for (let i = 0; i < src.length; i += 97) src.fill((s = (s * 1103515245 + 12345) >>> 0) >>> 24, i, Math.min(i + 97, src.length));
  const outW = 120, outH = 70;
  const map = scaleTranslate(1 / 33.5, -40, -30); // partly outside on the left and at the top
  const out = areaWarpRGB(src, w, h, map, outW, outH);
  const tx = areaTaps(outW, map[0], map[2], w), ty = areaTaps(outH, map[4], map[5], h);
  let worst = 0;
  for (let v = 0; v < outH; v++)
    for (let u = 0; u < outW; u++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let j = 0; j < ty.count[v]; j++)
          for (let i = 0; i < tx.count[u]; i++)
            acc += ty.weights[v * ty.maxTaps + j] * tx.weights[u * tx.maxTaps + i] * src[((ty.first[v] + j) * w + tx.first[u] + i) * 3 + c];
        worst = Math.max(worst, Math.abs(out[(v * outW + u) * 3 + c] - clampByte(acc)));
      }
  assert.ok(worst <= 1, `max diff ${worst}`);
  const kernelBytes = imageKernels().memory.memory.buffer.byteLength;
  assert.ok(kernelBytes < 12 << 20, `the kernels' memory grew to ${(kernelBytes / 2 ** 20).toFixed(1)} MB`);
});
