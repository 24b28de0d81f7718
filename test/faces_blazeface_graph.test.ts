/** BlazeFace on a trimmed input: the derived graph, and the whole-frame view cut down to the picture. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ort } from '../src/models/ort_runtime.js';
import sharp from 'sharp';
import { BlazeFaceDetector, blazeFaceModelPath, planPasses, trimmedView } from '../src/faces/blazeface.js';
import { deriveBlazeFaceGraph, UnknownBlazeFaceGraphError } from '../src/faces/blazeface_graph.js';
import { turnSquareMap } from '../src/faces/face_orientation.js';
import { applyAffine, warpAffineRGB } from '../src/image/affine.js';
import { samplePhoto } from '../src/media/render_clip.js';
import type { Frame } from '../src/types.js';

const model = new Uint8Array(readFileSync(blazeFaceModelPath()));
const sessionOptions = { intraOpNumThreads: 1, logSeverityLevel: 3 } as const;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A sample photo letterboxed into a 16:9 picture (as a wide video frame shows a person), as packed RGB. */
async function widePicture(n: number, width = 1280, height = 720): Promise<{ data: Buffer; width: number; height: number }> {
  const data = await sharp(samplePhoto(n)).resize(width, height, { fit: 'contain', background: { r: 40, g: 40, b: 40 } }).removeAlpha().raw().toBuffer();
  return { data, width, height };
}

async function run(session: ort.InferenceSession, rgb: Buffer, height: number, width: number) {
  const data = Float32Array.from(rgb, (v) => v / 127.5 - 1);
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [1, height, width, 3]) });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

let square: ort.InferenceSession;
before(async () => {
  square = await ort.InferenceSession.create(model, sessionOptions);
});
after(async () => {
  await square.release();
});

test('the graph derived at the square size computes what the package file does', async () => {
  const same = await ort.InferenceSession.create(deriveBlazeFaceGraph(model, 256, 256), sessionOptions);
  const rgb = Buffer.from(Array.from({ length: 256 * 256 * 3 }, (_, i) => (i * 7919) % 256));
  const [a, b] = [await run(square, rgb, 256, 256), await run(same, rgb, 256, 256)];
  for (const k of Object.keys(a)) assert.deepEqual(b[k], a[k], k);
  await same.release();
});

test('a graph derived for 192 x 256 gives the square letterbox its anchors on the picture, cell for cell', async () => {
  const pic = await widePicture(1);
  const view = planPasses(pic.width, pic.height).whole;
  const trimmed = trimmedView(view.map, pic.width, pic.height);
  assert.deepEqual([trimmed.width, trimmed.height], [256, 192]);
  const small = await ort.InferenceSession.create(deriveBlazeFaceGraph(model, 192, 256), sessionOptions);
  const a = await run(square, warpAffineRGB(pic.data, pic.width, pic.height, view.map, 256, 256), 256, 256);
  const b = await run(small, warpAffineRGB(pic.data, pic.width, pic.height, trimmed.map, 256, 192), 192, 256);
  assert.equal(b['Identity:0'].length, 16 * 12 * 2);
  assert.equal(b['Identity_1:0'].length, 8 * 6 * 6);
  let strong = 0;
  for (const [stride, perCell, scores, boxes] of [[16, 2, 'Identity:0', 'Identity_2:0'], [32, 6, 'Identity_1:0', 'Identity_3:0']] as const) {
    const cols = 256 / stride, skip = 32 / stride; // the trimmed input starts 32 rows down the square
    for (let cy = 0; cy < 192 / stride; cy++)
      for (let i = 0; i < cols * perCell; i++) {
        const ia = (cy + skip) * cols * perCell + i, ib = cy * cols * perCell + i;
        if (sigmoid(a[scores][ia]) < 0.75) continue;
        strong++;
        const width = a[boxes][ia * 16 + 2];
        // close, not equal: deep features reach past the kept band, into the padding. A cell out of
        // place would move the box by a cell, most of these faces' width (about 20 model pixels)
        assert.ok(Math.abs(sigmoid(a[scores][ia]) - sigmoid(b[scores][ib])) < 0.08, `score at cell row ${cy}`);
        for (let k = 0; k < 16; k++) assert.ok(Math.abs(a[boxes][ia * 16 + k] - b[boxes][ib * 16 + k]) < 0.05 * width, `box value ${k} at cell row ${cy}`);
      }
  }
  assert.ok(strong >= 3, `the photo's faces give strong anchors (${strong})`);
  await small.release();
});

test('sides that are not whole 32 px cells are refused, and so is a graph that is not the square one', () => {
  assert.throws(() => deriveBlazeFaceGraph(model, 200, 256), RangeError);
  assert.throws(() => deriveBlazeFaceGraph(model, 0, 256), RangeError);
  assert.throws(() => deriveBlazeFaceGraph(deriveBlazeFaceGraph(model, 192, 256), 160, 256), UnknownBlazeFaceGraphError);
});

test('trimmedView cuts whole cells of black band, keeping at least 16 px of it, and only beside the picture', () => {
  // 16:9 whole view: 144 picture rows in the middle of 256, bands of 56 -> 32 cut, 24 kept
  const wide = planPasses(256, 144).whole.map;
  const t = trimmedView(wide, 256, 144);
  assert.deepEqual([t.width, t.height], [256, 192]);
  assert.deepEqual(applyAffine(t.map, [10, 0]), applyAffine(wide, [10, 32]));
  // turned a quarter: the picture stands in the square, so columns go
  const turned = turnSquareMap(wide, 1, 256);
  const tt = trimmedView(turned, 256, 144);
  assert.deepEqual([tt.width, tt.height], [192, 256]);
  assert.deepEqual(applyAffine(tt.map, [0, 7]), applyAffine(turned, [32, 7]));
  // 4:3 (bands of 32: cutting a cell would leave under 16 px) and a square with its border: untouched
  for (const [w, h] of [[256, 192], [200, 200]]) {
    const m = planPasses(w, h).whole.map;
    assert.deepEqual(trimmedView(m, w, h), { map: m, width: 256, height: 256 }, `${w}x${h}`);
  }
  // tall 9:16
  assert.deepEqual(((v) => [v.width, v.height])(trimmedView(planPasses(144, 256).whole.map, 144, 256)), [192, 256]);
});

test('the detector finds the same faces in a wide frame as in the photo itself', async () => {
  const detector = await BlazeFaceDetector.load();
  try {
    for (const n of [1, 2]) {
      const pic = await widePicture(n);
      const frame: Frame = { index: 0, timeMs: 0, width: pic.width, height: pic.height, pixels: { format: 'rgb24', ...pic } };
      const wide = await detector.detect(frame);
      const { data, info } = await sharp(samplePhoto(n)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const photo: Frame = { index: 0, timeMs: 0, width: info.width, height: info.height, pixels: { format: 'rgb24', width: info.width, height: info.height, data } };
      const own = await detector.detect(photo);
      assert.ok(own.length >= 2, `sample${n} has faces`);
      assert.equal(wide.length, own.length, `sample${n}`);
    }
  } finally {
    await detector.dispose();
  }
});

test('prepareForFrames opens the trimmed view a frame of that shape is detected on, before its first frame', async () => {
  const detector = await BlazeFaceDetector.load();
  try {
    assert.deepEqual(detector.viewSizes, ['256x256']);
    await detector.prepareForFrames(1000, 900); // near-square: the square view, nothing to derive
    assert.deepEqual(detector.viewSizes, ['256x256']);
    await detector.prepareForFrames(1920, 1080);
    await detector.prepareForFrames(1080, 1920);
    assert.deepEqual(detector.viewSizes, ['256x256', '192x256', '256x192']);
    // a 16:9 frame and a 9:16 one are then detected on those views: no session opens during detection
    for (const [w, h] of [[1280, 720], [720, 1280]]) {
      const pic = await widePicture(1, w, h);
      const faces = await detector.detect({ index: 0, timeMs: 0, width: w, height: h, pixels: { format: 'rgb24', ...pic } });
      assert.ok(faces.length >= 2, `${w}x${h}: faces found`);
    }
    assert.deepEqual(detector.viewSizes, ['256x256', '192x256', '256x192']);
  } finally {
    await detector.dispose();
  }
});
