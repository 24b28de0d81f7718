/** Which crops a scan cuts for its models (scanCropOptions). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadManifest } from '../src/models/manifest.js';
import { resolveModel, resolveModels } from '../src/models/registry.js';
import { scanCropOptions } from '../src/pipeline/scanner.js';

const manifest = async (name: string) => (await loadManifest(await resolveModel(name))).manifest;

test('crops are cut at the input size the models share; mixed sizes at the largest', async () => {
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
    // the default's members share one crop, cut at the largest input size among them
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
