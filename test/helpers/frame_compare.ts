/** Comparing decoded pictures: the first sampled frame as RGB, and a mean difference in levels. */
import assert from 'node:assert/strict';
import { warpAffine } from '../../src/image/warp.js';
import type { DecodeOptions } from '../../src/media/decode.js';
import { openFrames } from '../../src/media/frame_source.js';
import type { Frame } from '../../src/types.js';

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
