/**
 * YUV 4:2:0 frames: conversion to RGB, the YUV warp against warping the converted frame, and decoded
 * frames against ffmpeg's own RGB conversion of the same frame (so crops match those cut from RGB).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { type Affine, warpAffineRGB } from '../src/image/affine.js';
import { warpAffine } from '../src/image/warp.js';
import { yuv420Bytes, yuv420ToRgb, yuvPlanes } from '../src/image/yuv.js';
import { decodeVideoFrames } from '../src/media/decode.js';
import { probeMedia } from '../src/media/probe.js';
import { mediaTools } from '../src/media/tools.js';
import type { Frame, YuvImage } from '../src/types.js';
import * as fx from './helpers/media_fixtures.js';

function solidYuv(w: number, h: number, y: number, u: number, v: number, matrix: YuvImage['matrix'] = 'bt601'): YuvImage {
  const img: YuvImage = { format: 'yuv420p', width: w, height: h, data: Buffer.alloc(yuv420Bytes(w, h)), matrix };
  const { uOff, vOff } = yuvPlanes(img);
  img.data.fill(y, 0, uOff);
  img.data.fill(u, uOff, vOff);
  img.data.fill(v, vOff);
  return img;
}

/** A YUV frame with structure in every plane (seeded pseudo-random, kept inside the RGB gamut). */
function patternYuv(w: number, h: number): YuvImage {
  const img = solidYuv(w, h, 0, 0, 0);
  const { uOff } = yuvPlanes(img);
  let s = 12345;
  for (let i = 0; i < img.data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const r = (s >>> 16) / 65536;
    img.data[i] = i < uOff ? 40 + r * 160 : 108 + r * 40;
  }
  return img;
}

test('limited-range black, white and BT.601 red convert to the expected RGB', () => {
  assert.deepEqual([...yuv420ToRgb(solidYuv(2, 2, 16, 128, 128)).subarray(0, 3)], [0, 0, 0]);
  assert.deepEqual([...yuv420ToRgb(solidYuv(2, 2, 235, 128, 128)).subarray(0, 3)], [255, 255, 255]);
  // BT.601 studio-range red is Y=81, Cb=90, Cr=240
  const red = [...yuv420ToRgb(solidYuv(2, 2, 81, 90, 240)).subarray(0, 3)];
  assert.ok(red[0] >= 253 && red[1] <= 2 && red[2] <= 2, `red: ${red}`);
  // BT.709 red is Y=63, Cb=102, Cr=240
  const red709 = [...yuv420ToRgb(solidYuv(2, 2, 63, 102, 240, 'bt709')).subarray(0, 3)];
  assert.ok(red709[0] >= 253 && red709[1] <= 2 && red709[2] <= 2, `red709: ${red709}`);
});

test('each chroma sample covers its 2x2 luma block, including the odd last row and column', () => {
  const img = solidYuv(3, 3, 128, 128, 128);
  const { uOff, vOff } = yuvPlanes(img);
  img.data[uOff + 2] = 200; // chroma (0, 1) covers luma row 2, columns 0-1
  img.data[vOff + 1] = 60; // chroma (1, 0) covers the last column, rows 0-1
  const rgb = yuv420ToRgb(img);
  const at = (x: number, y: number) => [...rgb.subarray((y * 3 + x) * 3, (y * 3 + x) * 3 + 3)];
  const grey = at(0, 0);
  assert.notDeepEqual(at(0, 2), grey);
  assert.deepEqual(at(1, 2), at(0, 2));
  assert.deepEqual(at(2, 2), grey);
  assert.notDeepEqual(at(2, 0), grey);
  assert.deepEqual(at(2, 1), at(2, 0));
});

test('warping YUV equals warping its RGB conversion (identity, scale, shrink, rotation, off-frame)', () => {
  const img = patternYuv(97, 61);
  const rgb = yuv420ToRgb(img);
  const c = Math.cos(0.3), s = Math.sin(0.3);
  const maps: [string, Affine, number][] = [
    ['identity', [1, 0, 0, 0, 1, 0], 1],
    ['upscale', [0.37, 0, 11.2, 0, 0.37, 7.9], 1],
    ['shrink (supersampled)', [2.6, 0, -5, 0, 2.6, -3], 1],
    ['rotation', [c * 0.8, -s * 0.8, 30, s * 0.8, c * 0.8, 5], 1],
    ['partly outside', [1, 0, -20, 0, 1, -10], 1],
  ];
  for (const [name, map, tol] of maps) {
    const a = warpAffine(img, map, 40, 40);
    const b = warpAffineRGB(rgb, img.width, img.height, map, 40, 40);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    // the YUV path interpolates before clamping and rounding once; the RGB path after: +-1 rounding,
    // more only where a channel saturates
    assert.ok(worst <= 8, `${name}: max diff ${worst}`);
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
    assert.ok(sum / a.length <= tol, `${name}: mean diff ${sum / a.length}`);
  }
});

/** The frame at `index` as ffmpeg converts it to RGB itself. */
function ffmpegRgb(path: string, index: number): Buffer {
  return execFileSync(
    mediaTools().ffmpeg,
    ['-v', 'error', '-i', path, '-vf', `select='eq(n\\,${index})'`, '-vsync', '0', '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

async function decodedFrame(path: string, index: number): Promise<Frame> {
  const info = await probeMedia(path);
  for await (const f of decodeVideoFrames(info, [index])) return f;
  throw new Error('no frame');
}

// For odd widths ffmpeg's converter interpolates chroma instead of repeating it, so single pixels at
// sharp colour edges differ there (the mean still matches); other sizes use its fast repeat path.
for (const [name, clip, format, maxDiff] of [
  ['4:2:0 BT.601 (untagged)', () => fx.faceClip(), 'yuv420p', 6],
  ['4:2:0 tagged BT.709', async () => fx.layoutClip('bt709'), 'yuv420p', 6],
  ['4:2:0 odd size (decoded as RGB by ffmpeg: odd rows cannot be stacked in 4:2:0)', async () => fx.layoutClip('odd'), 'rgb24', 0],
  ['4:4:4 (decoded as RGB by ffmpeg)', async () => fx.layoutClip('yuv444p'), 'rgb24', 0],
] as const) {
  test(`decoded ${name} frames match ffmpeg's RGB conversion`, async () => {
    const path = await clip();
    const frame = await decodedFrame(path, 3);
    assert.equal(frame.pixels.format, format);
    const want = ffmpegRgb(path, 3);
    const got = warpAffine(frame.pixels, [1, 0, 0, 0, 1, 0], frame.width, frame.height);
    assert.equal(got.length, want.length);
    let sum = 0, worst = 0;
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i] - want[i]);
      sum += d;
      worst = Math.max(worst, d);
    }
    // swscale's fixed-point converter rounds differently: about 1 level on average, a few at most
    assert.ok(sum / got.length < 1.5, `mean diff ${sum / got.length}`);
    assert.ok(worst <= maxDiff, `max diff ${worst}`);
    const p = frame.preview!;
    assert.equal(Math.max(p.width, p.height), 256);
    assert.equal(p.data.length, p.width * p.height * 3);
  });
}
