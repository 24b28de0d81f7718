/** BlazeFace views: close-up views find a face that fills or overflows the picture (tight face crops). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { BlazeFaceDetector, closeUpPass } from '../src/faces/blazeface.js';
import { applyAffine } from '../src/image/affine.js';
import { samplePhoto } from '../src/media/render_clip.js';
import type { Frame } from '../src/types.js';

async function rgbFrame(image: Sharp): Promise<Frame> {
  const { data, info } = await image.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { index: 0, timeMs: 0, width: info.width, height: info.height, pixels: { format: 'rgb24', width: info.width, height: info.height, data } };
}

let withCloseUps: BlazeFaceDetector;
let without: BlazeFaceDetector;
before(async () => {
  withCloseUps = await BlazeFaceDetector.load();
  without = await BlazeFaceDetector.load({ closeUps: false });
});
after(async () => {
  await Promise.all([withCloseUps.dispose(), without.dispose()]);
});

test('closeUpPass centres the image in a square sideFactor times its longer side', () => {
  const { map } = closeUpPass(200, 100, 3); // 600 px square -> 256 model pixels
  assert.deepEqual(applyAffine(map, [128, 128]), [100, 50], 'model centre -> image centre');
  const [x0] = applyAffine(map, [0, 0]);
  const [x1] = applyAffine(map, [256, 256]);
  assert.ok(Math.abs(x1 - x0 - 600) < 1e-9 && Math.abs(x0 + 200) < 1e-9);
});

test('a face cropped tighter than itself is found only with close-up views, and its box overflows the crop', async () => {
  for (const n of [1, 6]) {
    const photo = samplePhoto(n);
    const faces = await withCloseUps.detect(await rgbFrame(sharp(photo)));
    assert.ok(faces.length >= 1, `sample${n} has faces`);
    const { box } = faces[0];
    // a square of 0.6x the face box around its centre: the face overflows the picture on every side
    const side = Math.round(0.6 * Math.max(box.width, box.height));
    const left = Math.round(box.x + box.width / 2 - side / 2), top = Math.round(box.y + box.height / 2 - side / 2);
    const tight = await rgbFrame(sharp(photo).extract({ left, top, width: side, height: side }).resize(224, 224));
    assert.deepEqual(await without.detect(tight), [], `sample${n}: the usual views miss it`);
    const found = await withCloseUps.detect(tight);
    assert.equal(found.length, 1, `sample${n}`);
    assert.ok(found[0].box.width > 224 && found[0].box.height > 224, `sample${n}: box ${JSON.stringify(found[0].box)} should overflow the picture`);
  }
});

test('close-up views find nothing in a picture without a face', async () => {
  const noise = Buffer.alloc(224 * 224 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
  const frame: Frame = { index: 0, timeMs: 0, width: 224, height: 224, pixels: { format: 'rgb24', width: 224, height: 224, data: noise } };
  assert.deepEqual(await withCloseUps.detect(frame), []);
  const grey = await rgbFrame(sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png());
  assert.deepEqual(await withCloseUps.detect(grey), []);
});

test('faces under minFaceSize are left out and counted, the largest of them recorded', async () => {
  const photo = await rgbFrame(sharp(samplePhoto(1)));
  const all = await withCloseUps.detect(photo);
  assert.equal(all.length, 3);
  const sides = all.map((d) => Math.max(d.box.width, d.box.height)).sort((a, b) => a - b);
  // keep only the largest face: the two smaller ones are counted, the middle one as the largest left out
  const strict = await BlazeFaceDetector.load({ minFaceSize: (sides[1] + sides[2]) / 2 });
  try {
    const report = { tooSmall: 0, largestTooSmall: 0 };
    const kept = await strict.detect(photo, report);
    assert.equal(kept.length, 1);
    assert.ok(Math.abs(Math.max(kept[0].box.width, kept[0].box.height) - sides[2]) < 1e-6);
    assert.equal(report.tooSmall, 2);
    assert.ok(Math.abs(report.largestTooSmall - sides[1]) < 1e-6);
  } finally {
    await strict.dispose();
  }
});
