/** iPhone pictures: HEIF coded with HEVC, which sharp cannot decode, decoded by libheif (WebAssembly). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlazeFaceDetector } from '../src/faces/blazeface.js';
import { openFrames } from '../src/media/frame_source.js';
import { HEIC_CODEC } from '../src/media/heif_picture.js';
import { probeMedia } from '../src/media/probe.js';
import { analyzeFaces } from '../src/pipeline/face_analysis.js';
import { faceThumbnail } from '../src/eval/thumbnails.js';
import { firstFaceBox, meanAbsDiff, thumbnailPixels } from './helpers/frame_compare.js';
import { isMediaPath } from '../src/pipeline/inputs.js';
import { UnmaskError } from '../src/util/errors.js';
import * as fx from './helpers/media_fixtures.js';

const heic = fx.heicPhoto();
const skip = heic ? false : 'heif-enc is missing (apt-get install libheif-examples), so no HEIC picture can be made';

test('a HEIC picture is probed and decoded as the picture it holds, and its faces are found', { skip }, async () => {
  const info = await probeMedia(heic!);
  assert.deepEqual([info.kind, info.codec, info.width, info.height, info.readSize], ['image', HEIC_CODEC, 1920, 1280, undefined]);
  const reference = [];
  for await (const f of (await openFrames(fx.facePhoto())).frames) reference.push(f);
  const frames = [];
  for await (const f of (await openFrames(heic!)).frames) frames.push(f);
  assert.equal(frames.length, 1);
  const [f] = frames;
  assert.deepEqual([f.width, f.height, f.pixels.format, f.pixels.data.length], [1920, 1280, 'rgb24', 1920 * 1280 * 3]);
  // the same picture, through a lossy HEVC encode at quality 90
  let diff = 0;
  for (let i = 0; i < f.pixels.data.length; i++) diff += Math.abs(f.pixels.data[i] - reference[0].pixels.data[i]);
  assert.ok(diff / f.pixels.data.length < 4, `mean abs difference ${diff / f.pixels.data.length}`);
  const detector = await BlazeFaceDetector.load();
  try {
    assert.equal((await analyzeFaces(heic!, detector)).crops.length, 3);
  } finally {
    await detector.dispose();
  }
});

test('directory walks pick up .heic and .heif', () => {
  for (const p of ['IMG_0001.HEIC', 'a.heif']) assert.ok(isMediaPath(p), p);
});

test('a text file named .heic -> UNREADABLE_MEDIA, one line', async () => {
  const path = fx.copyAs(fx.textAsMp4(), 'notes.heic');
  await assert.rejects(probeMedia(path), (e: unknown) => e instanceof UnmaskError && e.code === 'UNREADABLE_MEDIA' && !e.message.includes('\n'));
});

test('a HEIC picture gets face thumbnails, cut from the picture the scan read', { skip }, async () => {
  const box = await firstFaceBox(fx.facePhoto());
  const d = meanAbsDiff(await thumbnailPixels(await faceThumbnail(heic!, 0, box)), await thumbnailPixels(await faceThumbnail(fx.facePhoto(), 0, box)));
  assert.ok(d < 6, `mean abs difference ${d}`);
});
