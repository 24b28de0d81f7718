/**
 * Animated WebP pictures (src/media/animated_picture.ts): probed as an animation, sampled like a
 * video, each frame decoded as a player shows it; a broken one is an error or a warning, not a
 * silent still.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { frameTimes } from '../src/media/animated_picture.js';
import { openFrames } from '../src/media/frame_source.js';
import { probeMedia } from '../src/media/probe.js';
import { Scanner } from '../src/pipeline/scanner.js';
import type { Frame } from '../src/types.js';
import { NoFramesError } from '../src/util/errors.js';
import * as fx from './helpers/media_fixtures.js';

async function collect(frames: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of frames) out.push(f);
  return out;
}

test('frame times come from the delays; a delay of 10 ms or less (or none) plays as 100 ms', () => {
  assert.deepEqual(frameTimes([40, 0, 80, 5], 4), { startsMs: [0, 40, 140, 220], durationMs: 320 });
  assert.deepEqual(frameTimes(undefined, 3), { startsMs: [0, 100, 200], durationMs: 300 });
});

test('an animated WebP is probed as an animation: frame count, times, rate and one frame\'s size', async () => {
  const info = await probeMedia(await fx.animatedWebp('colours'));
  assert.equal(info.kind, 'image');
  assert.equal(info.width, 64);
  assert.equal(info.height, 48);
  assert.equal(info.frameCount, 6);
  assert.deepEqual(info.frameTimesMs, [0, 40, 140, 220, 260, 300]);
  assert.equal(info.durationMs, 340);
  assert.ok(Math.abs(info.fps - 6000 / 340) < 1e-9);
  // a still WebP stays a still
  const stillPath = join(fx.fixturesDir, 'still.webp');
  await sharp(fx.facePhoto()).resize(320).webp().toFile(stillPath);
  const still = await probeMedia(stillPath);
  assert.equal(still.codec, 'webp');
  assert.equal(still.frameTimesMs, undefined);
  assert.equal(still.frameCount, 1);
});

test('sampled frames are decoded with their own pixels, index and time', async () => {
  const src = await openFrames(await fx.animatedWebp('colours'), { kind: 'uniform', count: 3 });
  const frames = await collect(src.frames);
  assert.deepEqual(src.indices, frames.map((f) => f.index));
  assert.equal(frames.length, 3);
  assert.equal(frames[0].index, 0);
  assert.equal(frames[2].index, 5);
  for (const f of frames) {
    assert.equal(f.pixels.format, 'rgb24');
    assert.equal(f.pixels.data.length, 64 * 48 * 3);
    const want = fx.ANIMATION_COLOURS[f.index];
    // lossless: every pixel of the frame is its colour (not the first frame's)
    for (const p of [0, (64 * 24 + 32) * 3, (64 * 48 - 1) * 3]) assert.deepEqual([...f.pixels.data.subarray(p, p + 3)], [...want]);
    assert.equal(f.timeMs, [0, 40, 140, 220, 260, 300][f.index]);
  }
  assert.deepEqual({ requested: src.report.requested, decoded: src.report.decoded, warning: src.report.warning }, { requested: 3, decoded: 3, warning: undefined });
  // every frame, in order
  const all = await collect((await openFrames(await fx.animatedWebp('colours'), { kind: 'uniform', count: 32 })).frames);
  assert.deepEqual(all.map((f) => f.index), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(all.map((f) => f.pixels.data[0]), fx.ANIMATION_COLOURS.map((c) => c[0]));
});

test('a range past the last frame selects none: NoFramesError, not a still', async () => {
  const src = await openFrames(await fx.animatedWebp('colours'), { kind: 'range', start: 10, count: 2 });
  await assert.rejects(collect(src.frames), NoFramesError);
});

let scanner: Scanner;
before(async () => {
  scanner = await Scanner.create({});
});
after(async () => {
  await scanner?.dispose();
});

test('scanning an animated WebP of three people reads every frame and tracks the faces', async () => {
  const r = await scanner.scan(await fx.animatedWebp('faces'));
  assert.equal(r.status, 'ok');
  assert.equal(r.framesSampled, 6);
  assert.equal(r.framesDecoded, 6);
  assert.equal(r.media?.frameCount, 6);
  assert.equal(r.tracks.length, 3);
  for (const t of r.tracks) assert.equal(t.frames, 6);
  assert.deepEqual([...new Set(r.frames.map((f) => f.timeMs))], [0, 100, 200, 300, 400, 500]);
  assert.ok(['FAKE', 'REAL', 'UNCERTAIN'].includes(r.verdict!));
});

test('a truncated animated WebP is an error or fewer frames with a warning, never a silent still', async () => {
  const r = await scanner.scan(await fx.animatedWebp('truncated'));
  if (r.status === 'error') {
    assert.match(r.error!.code, /UNREADABLE_MEDIA|NO_FRAMES/);
    assert.doesNotMatch(r.error!.message, /\n/);
  } else {
    assert.ok(r.framesDecoded < 6);
    assert.ok(r.warnings.some((w) => /decoded \d of 6 sampled frames/.test(w)), r.warnings.join('; '));
  }
});
