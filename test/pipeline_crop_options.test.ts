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

test('analyzeFaces cuts each frame the ways asked for its ordinal, and returns the first cut\'s crops', async () => {
  const { BlazeFaceDetector } = await import('../src/faces/blazeface.js');
  const { analyzeFaces, cropCutKey } = await import('../src/pipeline/face_analysis.js');
  const { makeFaceCrop } = await import('../src/faces/crop.js');
  const { faceClip } = await import('./helpers/media_fixtures.js');
  const detector = await BlazeFaceDetector.load();
  try {
    const asked: number[] = [];
    const seen: { ordinal: number; keys: string[]; faces: number }[] = [];
    const crop = { policy: 'margin', margin: 0.3, size: 64 } as const;
    const cut = (size: number, margin = 0.3) => ({ size, margin });
    const a = await analyzeFaces(await faceClip(), detector, {
      sampling: { kind: 'uniform', count: 5 },
      crop,
      cropCuts: (ordinal) => {
        asked.push(ordinal);
        return ordinal % 2 ? [cut(32), cut(48), cut(32), cut(32, 0.15)] : [cut(40)];
      },
      onFrameCrops: (byCut, ordinal) => {
        const keys = [...byCut.keys()];
        const faces = byCut.get(keys[0])!.length;
        for (const [key, crops] of byCut) {
          assert.equal(crops.length, faces);
          for (const c of crops) assert.equal(`${c.size}@`, key.slice(0, key.indexOf('@') + 1));
        }
        seen.push({ ordinal, keys, faces });
      },
    });
    assert.ok(a.crops.length >= 5, 'faces in every frame');
    assert.deepEqual(asked, seen.map((s) => s.ordinal));
    assert.deepEqual(asked, [...asked.keys()], 'ordinals count the frames with faces');
    // a cut asked twice is made once; one side at two margins is two cuts; the returned crops are the first cut's, with track ids
    seen.forEach((s) => assert.deepEqual(s.keys, s.ordinal % 2 ? ['32@0.3', '48@0.3', '32@0.15'] : ['40@0.3']));
    assert.equal(cropCutKey(cut(32, 0.15)), '32@0.15');
    const frames = [...new Set(a.crops.map((c) => c.frameIndex))];
    a.crops.forEach((c) => {
      assert.equal(c.size, frames.indexOf(c.frameIndex) % 2 ? 32 : 40);
      assert.ok(c.trackId >= 0);
    });
    // no cuts asked: the crop options' own
    const plain = await analyzeFaces(await faceClip(), detector, { sampling: { kind: 'uniform', count: 2 }, crop, cropCuts: () => [] });
    assert.ok(plain.crops.length > 0 && plain.crops.every((c) => c.size === 64));
    // the same pixels as a crop cut alone that way; a tighter margin gives other pixels (the face larger)
    let tight: readonly import('../src/types.js').FaceCrop[] = [];
    const second = await analyzeFaces(await faceClip(), detector, {
      sampling: { kind: 'uniform', count: 5 },
      crop,
      cropCuts: () => [cut(40), cut(40, 0.15)],
      onFrameCrops: (byCut, ordinal) => {
        if (ordinal === 0) tight = byCut.get('40@0.15')!;
      },
    });
    const first = second.crops[0];
    const frameSrc = await (await import('../src/media/frame_source.js')).openFrames(await faceClip(), { kind: 'uniform', count: 5 });
    for await (const f of frameSrc.frames) {
      if (f.index !== first.frameIndex) continue;
      assert.deepEqual(makeFaceCrop(f, first.detection, { ...crop, size: 40 }).rgb, first.rgb);
      assert.deepEqual(makeFaceCrop(f, first.detection, { ...crop, size: 40, margin: 0.15 }).rgb, tight[0].rgb);
      assert.notDeepEqual(tight[0].rgb, first.rgb);
      break;
    }
  } finally {
    await detector.dispose();
  }
});

test('ensemble members may differ in margin but not in crop policy; a clip model needs the first model\'s margin', async () => {
  const { checkCropPolicies } = await import('../src/pipeline/scanner.js');
  const faceres = await manifest('unmask-faceres-pre');
  const tight = { ...faceres, name: 'tight', crop: { ...faceres.crop, margin: 0.15 } };
  assert.doesNotThrow(() => checkCropPolicies([faceres, tight]));
  assert.throws(() => checkCropPolicies([faceres, { ...faceres, name: 'aligned', crop: { policy: 'align' as const } }]), /must share one crop policy \(unmask-faceres-pre: margin, aligned: align\)/);
  const clip = { ...tight, kind: 'clip' as const, name: 'clip' };
  assert.throws(() => checkCropPolicies([faceres, clip]), /clip model clip needs crops with margin 0.15, but the scan cuts them with 0.3 .*list it first/);
  assert.doesNotThrow(() => checkCropPolicies([clip, tight]));
  // the crops handed out: the first model's margin
  assert.equal(scanCropOptions([tight, faceres]).margin, 0.15);
});

test('a scan cuts each member\'s crops with its own margin', async () => {
  const { mkdtemp, writeFile, symlink, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Scanner } = await import('../src/pipeline/scanner.js');
  const { facePhoto } = await import('./helpers/media_fixtures.js');
  const { manifest: m, manifestPath, onnxPath } = await loadManifest(await resolveModel('unmask-mbv2-128-lm'));
  const dir = await mkdtemp(join(tmpdir(), 'unmask-margin-'));
  try {
    // the same network, told to take crops with a 0.15 margin
    await symlink(onnxPath, join(dir, 'net.onnx'));
    const tightPath = join(dir, 'tight.manifest.json');
    await writeFile(tightPath, JSON.stringify({ ...m, name: 'tight', file: 'net.onnx', crop: { ...m.crop, margin: 0.15 } }));
    const perMember = async (models: string[]) => {
      const scanner = await Scanner.create({ models, memberSchedule: 'every-frame' });
      try {
        const r = await scanner.scan(facePhoto(1));
        assert.equal(r.status, 'ok');
        return r.frames.map((f) => f.modelProbabilities);
      } finally {
        await scanner.dispose();
      }
    };
    const both = await perMember([manifestPath, tightPath]);
    const alone = await perMember([tightPath]);
    assert.ok(both.length >= 2);
    both.forEach((p, i) => {
      assert.ok(Math.abs(p[1]! - alone[i][0]!) < 1e-6, 'the tight member scores what it scores alone');
      assert.ok(Math.abs(p[0]! - p[1]!) > 1e-4, 'the two margins give the network different crops');
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
