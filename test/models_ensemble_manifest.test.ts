/** Ensemble manifests (unmask.ensemble/1): validation, expansion, and loading as an Ensemble. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ensemble } from '../src/models/ensemble.js';
import { expandEnsembleManifests, readEnsembleMembers } from '../src/models/ensemble_manifest.js';
import { resolveModels } from '../src/models/registry.js';
import { ScanModels } from '../src/pipeline/scan_models.js';
import { InvalidManifestError } from '../src/util/errors.js';
import { makeCrop, tempDir, writeModel } from './helpers/model_fixtures.js';

async function ensembleFile(dir: string, name: string, doc: unknown): Promise<string> {
  const path = join(dir, `${name}.ensemble.json`);
  await writeFile(path, JSON.stringify(doc));
  return path;
}

describe('ensemble manifest', () => {
  it('expands into its members, resolved beside it, in place and in order', async () => {
    const dir = await tempDir();
    const a = await writeModel(dir, 'a');
    const b = await writeModel(dir, 'b');
    const c = await writeModel(dir, 'c');
    const ens = await ensembleFile(dir, 'ab', { schema: 'unmask.ensemble/1', name: 'ab', members: ['a.manifest.json', './b.manifest.json'] });
    assert.deepEqual(await readEnsembleMembers(ens), [a, b]);
    assert.deepEqual(await expandEnsembleManifests([c, ens]), [c, a, b]);
    // Paths that are not ensembles (even missing ones) pass through for their loader to report.
    assert.deepEqual(await expandEnsembleManifests([join(dir, 'missing.json')]), [join(dir, 'missing.json')]);
    // The registry's resolveModels does the same after resolving each argument.
    assert.deepEqual(await resolveModels([ens, c], dir), [a, b, c]);
  });

  it('loads as an Ensemble whose prediction is the mean of the members', async () => {
    const dir = await tempDir();
    await writeModel(dir, 'a', (m) => (m.calibration.temperature = 1));
    await writeModel(dir, 'b', (m) => (m.calibration.temperature = 2));
    const ens = await ensembleFile(dir, 'ab', { schema: 'unmask.ensemble/1', name: 'ab', members: ['a.manifest.json', 'b.manifest.json'] });
    const fromFile = await Ensemble.load([ens], { intraOpNumThreads: 1 });
    const direct = await Ensemble.load([join(dir, 'a.manifest.json'), join(dir, 'b.manifest.json')], { intraOpNumThreads: 1 });
    try {
      assert.deepEqual(fromFile.members.map((m) => m.manifest.name), ['a', 'b']);
      const crops = [makeCrop(4, () => [200, 10, 90]), makeCrop(4, () => [5, 80, 250])];
      assert.deepEqual(Array.from(await fromFile.predict(crops)), Array.from(await direct.predict(crops)));
    } finally {
      await Promise.all([fromFile.dispose(), direct.dispose()]);
    }
  });

  it('is accepted by the scanner model loader (ScanModels)', async () => {
    const dir = await tempDir();
    await writeModel(dir, 'a');
    await writeModel(dir, 'b');
    const ens = await ensembleFile(dir, 'ab', { schema: 'unmask.ensemble/1', name: 'ab', members: ['a.manifest.json', 'b.manifest.json'] });
    const models = await ScanModels.load([ens], { intraOpNumThreads: 1 });
    try {
      assert.deepEqual(models.manifests.map((m) => m.name), ['a', 'b']);
    } finally {
      await models.dispose();
    }
  });

  it('rejects bad documents in one line, naming the field', async () => {
    const dir = await tempDir();
    await writeModel(dir, 'a');
    const cases: [unknown, RegExp][] = [
      [{ schema: 'unmask.ensemble/1', name: 'e', members: [] }, /members/],
      [{ schema: 'unmask.ensemble/1', members: ['a.manifest.json'] }, /name/],
      [{ schema: 'unmask.ensemble/1', name: 'e', members: ['a.manifest.json'], combine: 'max' }, /combine/],
    ];
    for (const [doc, pattern] of cases) {
      const p = await ensembleFile(dir, 'bad', doc);
      await assert.rejects(readEnsembleMembers(p), (e: unknown) => e instanceof InvalidManifestError && pattern.test(e.message) && !e.message.includes('\n'));
    }
    const inner = await ensembleFile(dir, 'inner', { schema: 'unmask.ensemble/1', name: 'i', members: ['a.manifest.json'] });
    const outer = await ensembleFile(dir, 'outer', { schema: 'unmask.ensemble/1', name: 'o', members: [inner] });
    await assert.rejects(readEnsembleMembers(outer), /nesting is not supported/);
  });
});
