/**
 * The decoder's transport: frames with the detector preview stacked below them on one pipe, read
 * through a FIFO or a Node stream, with or without buffer reuse. Every way must give the same pixels.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import sharp from 'sharp';
import { warpAffine } from '../src/image/warp.js';
import { yuv420Bytes, yuv420ToRgb } from '../src/image/yuv.js';
import { type DecodeOptions, decodeVideoFrames, previewSize } from '../src/media/decode.js';
import { probeMedia } from '../src/media/probe.js';
import { framePixels, previewRgb, type StackedLayout, stackedFrameBytes } from '../src/media/stacked_frame.js';
import { mediaTools } from '../src/media/tools.js';
import type { YuvImage } from '../src/types.js';
import * as fx from './helpers/media_fixtures.js';

/** A digest of each frame's pixels and preview, taken while the frame is current. */
async function digests(path: string, indices: number[], options: DecodeOptions): Promise<string[]> {
  const info = await probeMedia(path);
  const out: string[] = [];
  for await (const f of decodeVideoFrames(info, indices, undefined, options)) {
    const rgb = warpAffine(f.pixels, [1, 0, 0, 0, 1, 0], f.width, f.height);
    let a = 0, b = 0;
    for (let i = 0; i < rgb.length; i += 7) a = (a * 31 + rgb[i]) % 1000000007;
    for (let i = 0; i < f.preview!.data.length; i += 3) b = (b * 31 + f.preview!.data[i]) % 1000000007;
    out.push(`${f.index}:${a}:${b}`);
  }
  return out;
}

test('FIFO and stream transports, with and without buffer reuse, give identical frames', async () => {
  const path = await fx.faceClip();
  const indices = [0, 3, 4, 9, 17, 30, 31];
  const base = await digests(path, indices, { transport: 'stream' });
  assert.equal(base.length, indices.length);
  assert.deepEqual(await digests(path, indices, { transport: 'auto' }), base);
  assert.deepEqual(await digests(path, indices, { transport: 'auto', recycleFrames: true }), base);
  assert.deepEqual(await digests(path, indices, { transport: 'stream', recycleFrames: true }), base);
});

test('a consumer that stops early ends the pass (ffmpeg killed, nothing hangs)', async () => {
  const path = await fx.faceClip();
  const info = await probeMedia(path);
  for (const transport of ['auto', 'stream'] as const) {
    let n = 0;
    for await (const _ of decodeVideoFrames(info, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], undefined, { transport, recycleFrames: true })) {
      if (++n === 2) break;
    }
    assert.equal(n, 2);
  }
});

test('the decoded preview is the frame scaled down (area average), as ffmpeg scales it', async () => {
  const path = await fx.faceClip();
  const info = await probeMedia(path);
  let frame;
  for await (const f of decodeVideoFrames(info, [5])) frame = f;
  const p = frame!.preview!;
  assert.deepEqual({ width: p.width, height: p.height }, previewSize(info.width, info.height));
  // reference: ffmpeg's RGB frame shrunk by sharp; a misplaced strip would differ by tens of levels
  const full = execFileSync(mediaTools().ffmpeg, ['-v', 'error', '-i', path, '-vf', "select='eq(n\\,5)'", '-vsync', '0', '-frames:v', '1', '-pix_fmt', 'rgb24', '-f', 'rawvideo', '-'], { maxBuffer: 1 << 26 });
  const want = await sharp(full, { raw: { width: info.width, height: info.height, channels: 3 } }).resize(p.width, p.height, { fit: 'fill', kernel: 'mitchell' }).raw().toBuffer();
  let sum = 0;
  for (let i = 0; i < want.length; i++) sum += Math.abs(want[i] - p.data[i]);
  assert.ok(sum / want.length < 4, `mean diff ${sum / want.length}`);
});

test('stacked layout: the frame view and the preview strip read the right planes', () => {
  const layout: StackedLayout = { format: 'yuv420p', width: 8, height: 6, preview: { width: 4, height: 2 } };
  const data = Buffer.alloc(stackedFrameBytes(layout));
  assert.equal(data.length, yuv420Bytes(8, 8));
  // stacked frame 8x8: Y 64 bytes, U and V 4x4 = 16 each. Frame luma 100, strip luma 50;
  // chroma of the frame rows (0-2) 140/120, of the strip rows (3) 110/130.
  data.fill(100, 0, 48).fill(50, 48, 64);
  data.fill(140, 64, 76).fill(110, 76, 80);
  data.fill(120, 80, 92).fill(130, 92, 96);
  const px = framePixels(data, layout, 'bt601') as YuvImage;
  const plain: YuvImage = { format: 'yuv420p', width: 8, height: 6, matrix: 'bt601', data: Buffer.alloc(yuv420Bytes(8, 6)) };
  plain.data.fill(100, 0, 48).fill(140, 48, 60).fill(120, 60, 72);
  assert.deepEqual(warpAffine(px, [1, 0, 0, 0, 1, 0], 8, 6), yuv420ToRgb(plain));
  const prev = previewRgb(data, layout, 'bt601')!;
  const strip: YuvImage = { format: 'yuv420p', width: 4, height: 2, matrix: 'bt601', data: Buffer.from([...Array(8).fill(50), 110, 110, 130, 130]) };
  assert.deepEqual(prev.data, yuv420ToRgb(strip));
  assert.equal(previewRgb(data, { ...layout, preview: undefined }, 'bt601'), undefined);
});

test('preview size: longer side 256, even sides; none for frames not bigger than that', () => {
  assert.deepEqual(previewSize(1920, 1080), { width: 256, height: 144 });
  assert.deepEqual(previewSize(1080, 1920), { width: 144, height: 256 });
  assert.deepEqual(previewSize(642, 362), { width: 256, height: 144 });
  assert.equal(previewSize(256, 144), undefined);
  assert.equal(previewSize(176, 144), undefined);
});

test('FIFOs made in batches: more passes than one batch holds each read their own frames', async () => {
  const path = await fx.faceClip();
  const base = await digests(path, [2, 7], { transport: 'stream' });
  // 16 FIFOs per mkfifo call: 20 passes use a second batch
  const passes = await Promise.all(Array.from({ length: 20 }, () => digests(path, [2, 7], { transport: 'auto' })));
  for (const p of passes) assert.deepEqual(p, base);
});
