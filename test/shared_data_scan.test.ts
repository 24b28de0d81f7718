/**
 * Scans real development data from ../shared/data (FF++ c40 videos, DFDC face-track clips and crops).
 * Skips, saying so, where ../shared is absent (a user's clone). Checks the pipeline on real media:
 * faces found, one track per person, verdicts produced; quality numbers are for `bench/`, not tests.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Scanner } from '../src/pipeline/scanner.js';

const DATA = process.env.UNMASK_DATA ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
const present = existsSync(join(DATA, 'manifest.csv'));
const skip = present ? false : `../shared/data absent (looked in ${DATA})`;

let scanner: Scanner;
before(async () => {
  if (present) scanner = await Scanner.create({ sampling: { kind: 'uniform', count: 8 } });
});
after(async () => {
  await scanner?.dispose();
});

for (const file of ['ffpp_c40/original_youtube__183.mp4', 'ffpp_c40/Deepfakes__183_253.mp4', 'ffpp_c40/NeuralTextures__469_481.mp4']) {
  test(`FF++ c40 video ${file}: one main face tracked through the sampled frames`, { skip }, async () => {
    const r = await scanner.scan(join(DATA, file));
    assert.equal(r.status, 'ok', r.error?.message);
    assert.ok(['FAKE', 'REAL', 'UNCERTAIN'].includes(r.verdict!), `verdict ${r.verdict}`);
    const main = [...r.tracks].sort((a, b) => b.frames - a.frames)[0];
    assert.ok(main.frames >= 7, `main track covers ${main.frames} of 8 frames`);
  });
}

test('DFDC face-track clip (256x256, face fills the frame) is detected and scored', { skip }, async () => {
  const r = await scanner.scan(join(DATA, 'dfdc_face_tracks/fake/0_aejvkfbtxs.mp4_0_0.mp4'));
  assert.equal(r.status, 'ok', r.error?.message);
  assert.ok(r.frames.length >= 6, `${r.frames.length} faces in 8 frames`);
  assert.ok(r.probability !== null);
});

test('DFDC face crop images (about 100 px, faces under 60 px): NO_FACE with a warning, a verdict each with the limit lowered', { skip }, async () => {
  const files = ['dfdc_face_crops/real/abarnvbtwb-000-00.png', 'dfdc_face_crops/fake/aapnvogymq-001-00.png'].map((f) => join(DATA, f));
  for (const f of files) {
    const r = await scanner.scan(f);
    assert.equal(r.verdict, 'NO_FACE', f);
    assert.ok(r.warnings.some((w) => w.startsWith('faces smaller than 60 px left out')), r.warnings.join('; '));
  }
  const lenient = await Scanner.create({ detector: { minFaceSize: 16 } });
  try {
    for (const f of files) {
      const r = await lenient.scan(f);
      assert.equal(r.status, 'ok');
      assert.notEqual(r.verdict, 'NO_FACE', f);
    }
  } finally {
    await lenient.dispose();
  }
});
