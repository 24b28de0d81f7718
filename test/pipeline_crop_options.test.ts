/** Which crops a scan cuts for its models (scanCropOptions). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadManifest } from '../src/models/manifest.js';
import { resolveModel, resolveModels } from '../src/models/registry.js';
import { scanCropOptions } from '../src/pipeline/scanner.js';

const manifest = async (name: string) => (await loadManifest(await resolveModel(name))).manifest;

test('a scan\'s crop side is the input size the models share; mixed sizes the largest', async () => {
  const faceres = await manifest('unmask-faceres-pre');
  const resnet = await manifest('unmask-sbi-resnet-s');
  assert.notEqual(faceres.input.size, resnet.input.size);
  assert.deepEqual(scanCropOptions([faceres]), { policy: 'margin', margin: 0.3, size: faceres.input.size });
  assert.deepEqual(scanCropOptions([faceres, faceres]), { policy: 'margin', margin: 0.3, size: faceres.input.size });
  assert.deepEqual(scanCropOptions([faceres, resnet]), { policy: 'margin', margin: 0.3, size: Math.max(faceres.input.size, resnet.input.size) });
  assert.deepEqual(scanCropOptions([resnet, faceres]), scanCropOptions([faceres, resnet]));
});

test('a scan hands out the crops it scored: one per result frame, at the model size, with track ids', async () => {
  const { Scanner } = await import('../src/pipeline/scanner.js');
  const { facePhoto } = await import('./helpers/media_fixtures.js');
  const scanner = await Scanner.create({});
  try {
    let crops: readonly import('../src/types.js').FaceCrop[] = [];
    const r = await scanner.scan(facePhoto(1), { onCrops: (c) => (crops = c) });
    assert.equal(r.status, 'ok');
    assert.ok(r.frames.length >= 2);
    assert.equal(crops.length, r.frames.length);
    // the crops handed out are cut at the largest input side among the default's members
    const members = await Promise.all((await resolveModels([])).map(async (p) => (await loadManifest(p)).manifest));
    const size = scanCropOptions(members).size;
    assert.equal(size, Math.max(...members.map((m) => m.input.size)));
    crops.forEach((c, i) => {
      assert.equal(c.size, size);
      assert.equal(c.rgb.length, size * size * 3);
      assert.equal(c.trackId, r.frames[i].trackId);
      assert.equal(c.frameIndex, r.frames[i].frameIndex);
    });
  } finally {
    await scanner.dispose();
  }
});

test('analyzeFaces cuts each frame at the sides asked for its ordinal, and returns the first side\'s crops', async () => {
  const { BlazeFaceDetector } = await import('../src/faces/blazeface.js');
  const { analyzeFaces } = await import('../src/pipeline/face_analysis.js');
  const { makeFaceCrop } = await import('../src/faces/crop.js');
  const { faceClip } = await import('./helpers/media_fixtures.js');
  const detector = await BlazeFaceDetector.load();
  try {
    const asked: number[] = [];
    const seen: { ordinal: number; sides: number[]; faces: number }[] = [];
    const crop = { policy: 'margin', margin: 0.3, size: 64 } as const;
    const a = await analyzeFaces(await faceClip(), detector, {
      sampling: { kind: 'uniform', count: 5 },
      crop,
      cropSides: (ordinal) => {
        asked.push(ordinal);
        return ordinal % 2 ? [32, 48, 32] : [40];
      },
      onFrameCrops: (bySide, ordinal) => {
        const sides = [...bySide.keys()];
        const faces = bySide.get(sides[0])!.length;
        for (const [side, crops] of bySide) {
          assert.equal(crops.length, faces);
          for (const c of crops) assert.equal(c.size, side);
        }
        seen.push({ ordinal, sides, faces });
      },
    });
    assert.ok(a.crops.length >= 5, 'faces in every frame');
    assert.deepEqual(asked, seen.map((s) => s.ordinal));
    assert.deepEqual(asked, [...asked.keys()], 'ordinals count the frames with faces');
    // a side asked twice is cut once; the returned crops are the first side's, with track ids
    seen.forEach((s) => assert.deepEqual(s.sides, s.ordinal % 2 ? [32, 48] : [40]));
    const frames = [...new Set(a.crops.map((c) => c.frameIndex))];
    a.crops.forEach((c) => {
      assert.equal(c.size, frames.indexOf(c.frameIndex) % 2 ? 32 : 40);
      assert.ok(c.trackId >= 0);
    });
    // no sides asked: the crop options' own
    const plain = await analyzeFaces(await faceClip(), detector, { sampling: { kind: 'uniform', count: 2 }, crop, cropSides: () => [] });
    assert.ok(plain.crops.length > 0 && plain.crops.every((c) => c.size === 64));
    // the same pixels as a crop cut alone at that side
    const first = a.crops[0];
    const frameSrc = await (await import('../src/media/frame_source.js')).openFrames(await faceClip(), { kind: 'uniform', count: 5 });
    for await (const f of frameSrc.frames) {
      if (f.index !== first.frameIndex) continue;
      assert.deepEqual(makeFaceCrop(f, first.detection, { ...crop, size: 40 }).rgb, first.rgb);
      break;
    }
  } finally {
    await detector.dispose();
  }
});
