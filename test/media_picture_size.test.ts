/** Pictures larger than a scan reads whole are read scaled down, with boxes in their own pixels; larger still, refused. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { BlazeFaceDetector } from '../src/faces/blazeface.js';
import { openFrames } from '../src/media/frame_source.js';
import { MAX_PICTURE_PIXELS, pictureReadSize, SCAN_PICTURE_PIXELS } from '../src/media/picture_size.js';
import { probeMedia } from '../src/media/probe.js';
import { analyzeFaces } from '../src/pipeline/face_analysis.js';
import { faceThumbnail } from '../src/eval/thumbnails.js';
import { firstFaceBox, meanAbsDiff, thumbnailPixels } from './helpers/frame_compare.js';
import { UnmaskError } from '../src/util/errors.js';
import * as fx from './helpers/media_fixtures.js';

test('pictureReadSize: as stored up to the scan size, else scaled alike to fit it; refused over the limit', () => {
  assert.equal(pictureReadSize('a.jpg', 6000, 4000), undefined, '24 MP is read as stored');
  for (const [w, h] of [
    [8160, 6120],
    [20000, 14000],
    [65000, 2000],
  ]) {
    const r = pictureReadSize('a.jpg', w, h)!;
    assert.ok(r.width * r.height <= SCAN_PICTURE_PIXELS && r.width * r.height > 0.999 * SCAN_PICTURE_PIXELS, `${w}x${h} -> ${r.width}x${r.height}`);
    assert.ok(Math.abs(r.width / r.height - w / h) < (w / h) * 0.001, `aspect kept: ${w}x${h} -> ${r.width}x${r.height}`);
  }
  assert.throws(
    () => pictureReadSize('b.png', 40000, 30000),
    (e: unknown) =>
      e instanceof UnmaskError &&
      e.code === 'TOO_LARGE' &&
      e.message === 'picture too large to read: b.png is 40000x30000 (1200 megapixels; unmask reads pictures up to 1000 megapixels)',
  );
  assert.doesNotThrow(() => pictureReadSize('c.png', 40000, MAX_PICTURE_PIXELS / 40000));
});

test('a picture declaring more pixels than unmask reads -> TOO_LARGE at the probe, from its header alone', async () => {
  const path = fx.pngDeclaring(40000, 30000); // 1,200 MP in under 100 bytes
  await assert.rejects(probeMedia(path), (e: unknown) => e instanceof UnmaskError && e.code === 'TOO_LARGE' && !e.message.includes('\n'));
  // under the limit, the same header without pixels is a damaged picture: one line, not a stall
  const damaged = fx.pngDeclaring(20000, 14000);
  const info = await probeMedia(damaged);
  assert.deepEqual([info.kind, info.width, info.height, info.readSize], ['image', 20000, 14000, { width: 5855, height: 4098 }]);
  const src = await openFrames(damaged);
  await assert.rejects(
    async () => {
      for await (const _ of src.frames);
    },
    (e: unknown) => e instanceof UnmaskError && e.code === 'UNREADABLE_MEDIA' && !e.message.includes('\n'),
  );
});

test('a 26 MP picture is read at 24 MP and its faces are boxed in its own pixels, where they are in the photo it was made from', async () => {
  const big = await fx.bigFacePhoto(); // the 1920x1280 face photo stretched to 6300x4200
  const info = await probeMedia(big);
  assert.deepEqual([info.width, info.height], [6300, 4200]);
  assert.deepEqual(info.readSize, { width: 6000, height: 4000 });
  const frames = [];
  for await (const f of (await openFrames(big)).frames) frames.push(f);
  assert.deepEqual([frames[0].width, frames[0].height, frames[0].pixels.data.length], [6000, 4000, 6000 * 4000 * 3]);
  assert.deepEqual(frames[0].toPicture, { x: 6300 / 6000, y: 4200 / 4000 });

  const detector = await BlazeFaceDetector.load();
  try {
    const scanned = await analyzeFaces(big, detector);
    const reference = await analyzeFaces(fx.facePhoto(), detector);
    assert.equal(reference.crops.length, 3);
    assert.equal(scanned.crops.length, reference.crops.length);
    assert.ok(
      scanned.warnings.includes(
        'the picture is 6300x4200 (26 megapixels): it was read at 6000x4000 to bound memory, so faces were found and judged at that size; boxes are in the picture\'s own pixels',
      ),
      scanned.warnings.join('; '),
    );
    // each face's box, scaled back to the photo's 1920x1280, lies where the photo's own scan put it
    const sx = 1920 / 6300, sy = 1280 / 4200;
    for (const c of scanned.crops) {
      const b = c.detection.box;
      const near = reference.crops.map((r) => r.detection.box).find((r) => Math.abs(b.x * sx - r.x) < 0.05 * r.width);
      assert.ok(near, `no face of the photo near (${b.x * sx}, ${b.y * sy})`);
      for (const [got, want] of [
        [b.x * sx, near.x],
        [b.y * sy, near.y],
        [b.width * sx, near.width],
        [b.height * sy, near.height],
      ])
        assert.ok(Math.abs(got - want) < 0.05 * near.width, `box ${JSON.stringify(b)} scaled: ${got} vs ${want}`);
      // keypoints follow the box into the picture's pixels
      assert.ok(c.detection.keypoints.every(([x, y]) => x >= b.x - b.width && x <= b.x + 2 * b.width && y >= b.y - b.height && y <= b.y + 2 * b.height));
      // the crop itself is cut from the frame as read: its keypoints sit inside it
      assert.ok(c.keypoints.every(([x, y]) => x > 0 && x < c.size && y > 0 && y < c.size));
    }
  } finally {
    await detector.dispose();
  }
});

test('a picture of the scan size or less is read as stored, with no warning', async () => {
  const info = await probeMedia(fx.facePhoto());
  assert.equal(info.readSize, undefined);
  const meta = await sharp(fx.facePhoto()).metadata();
  for await (const f of (await openFrames(fx.facePhoto())).frames) {
    assert.deepEqual([f.width, f.height, f.toPicture], [meta.width, meta.height, undefined]);
  }
});

test('a face thumbnail of a picture read scaled down shows the face its box names', async () => {
  const big = await fx.bigFacePhoto();
  const box = await firstFaceBox(fx.facePhoto());
  const inPhoto = await thumbnailPixels(await faceThumbnail(fx.facePhoto(), 0, box));
  // the same face, boxed in the 6300x4200 picture's own pixels
  const s = 6300 / 1920;
  const inBig = await thumbnailPixels(await faceThumbnail(big, 0, { x: box.x * s, y: box.y * s, width: box.width * s, height: box.height * s }));
  const d = meanAbsDiff(inBig, inPhoto);
  assert.ok(d < 6, `mean abs difference ${d}`);
  // a box left in the scaled frame's pixels would show another part of the picture
  const wrong = await thumbnailPixels(await faceThumbnail(big, 0, { x: box.x * s * (6000 / 6300), y: box.y * s * (4000 / 4200), width: box.width * s, height: box.height * s }));
  assert.ok(meanAbsDiff(wrong, inPhoto) > 2 * d, `mis-scaled box: ${meanAbsDiff(wrong, inPhoto)} against ${d}`);
});
