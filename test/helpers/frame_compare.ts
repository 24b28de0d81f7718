/** Comparing decoded pictures: the first sampled frame as RGB, and a mean difference in levels. */
import assert from 'node:assert/strict';
import { warpAffine } from '../../src/image/warp.js';
import type { DecodeOptions } from '../../src/media/decode.js';
import { openFrames } from '../../src/media/frame_source.js';
import type { Box, Frame } from '../../src/types.js';
import sharp from 'sharp';
import { BlazeFaceDetector } from '../../src/faces/blazeface.js';
import { analyzeFaces } from '../../src/pipeline/face_analysis.js';

/** Mean absolute difference of two same-size 8-bit pictures, in levels. */
export function meanAbsDiff(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length, 'same size');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** The first of two uniformly sampled frames of `path`, with its pixels as packed RGB. */
export async function firstFrameRgb(path: string, options: DecodeOptions = {}): Promise<{ frame: Frame; rgb: Buffer; seeked: boolean }> {
  const src = await openFrames(path, { kind: 'uniform', count: 2 }, options);
  let first: { frame: Frame; rgb: Buffer } | undefined;
  for await (const f of src.frames) first ??= { frame: f, rgb: warpAffine(f.pixels, [1, 0, 0, 0, 1, 0], f.width, f.height) };
  return { ...first!, seeked: src.report.seeked ?? false };
}

/** The packed RGB pixels of a face thumbnail (a `data:image/jpeg;base64,...` URI, thumbnails.ts). */
export async function thumbnailPixels(uri: string | undefined): Promise<Buffer> {
  assert.ok(uri, 'no thumbnail');
  return sharp(Buffer.from(uri.split(',')[1], 'base64')).raw().toBuffer();
}

/** The box of the first face the detector finds in `path`. */
export async function firstFaceBox(path: string): Promise<Box> {
  const detector = await BlazeFaceDetector.load();
  try {
    return (await analyzeFaces(path, detector)).crops[0].detection.box;
  } finally {
    await detector.dispose();
  }
}
