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
import { loadManifest } from '../src/models/manifest.js';
import { resolveRunModels } from '../src/eval/eval_runner.js';
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
      assert.deepEqual(models.plan.manifests.map((m) => m.name), ['a', 'b']);
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
      [{ schema: 'unmask.ensemble/1', name: 'e', members: ['a.manifest.json'], weights: [1, 2] }, /weights: weights must have one entry per member/],
      [{ schema: 'unmask.ensemble/1', name: 'e', members: ['a.manifest.json'], bias: 'x' }, /bias/],
      [{ schema: 'unmask.ensemble/1', name: 'e', members: ['a.manifest.json'], decision: { realBelow: 0.8, fakeAbove: 0.2 } }, /decision/],
    ];
    for (const [doc, pattern] of cases) {
      const p = await ensembleFile(dir, 'bad', doc);
      await assert.rejects(readEnsembleMembers(p), (e: unknown) => e instanceof InvalidManifestError && pattern.test(e.message) && !e.message.includes('\n'));
    }
    const inner = await ensembleFile(dir, 'inner', { schema: 'unmask.ensemble/1', name: 'i', members: ['a.manifest.json'] });
    const outer = await ensembleFile(dir, 'outer', { schema: 'unmask.ensemble/1', name: 'o', members: [inner] });
    await assert.rejects(readEnsembleMembers(outer), /nesting is not supported/);
  });

  it('a stacked ensemble (weights, bias, decision) weighs its members in scan and eval alike', async () => {
    const dir = await tempDir();
    await writeModel(dir, 'a', (m) => (m.calibration.temperature = 1));
    await writeModel(dir, 'b', (m) => (m.calibration.temperature = 2));
    const c = await writeModel(dir, 'c');
    const band = { realBelow: 0.2, fakeAbove: 0.9 };
    const ens = await ensembleFile(dir, 'ab', { schema: 'unmask.ensemble/1', name: 'ab', members: ['a.manifest.json', 'b.manifest.json'], weights: [3, -0.5], bias: 0.25, decision: band });
    const direct = await Ensemble.load([join(dir, 'a.manifest.json'), join(dir, 'b.manifest.json')], { intraOpNumThreads: 1 });
    const stacked = await Ensemble.load([ens], { intraOpNumThreads: 1 });
    const scan = await ScanModels.load([ens, c], { intraOpNumThreads: 1 });
    try {
      const crops = [makeCrop(4, () => [200, 10, 90]), makeCrop(4, () => [5, 80, 250])];
      const [za, zb] = await direct.predictMembers(crops);
      const got = await stacked.predict(crops);
      for (let i = 0; i < crops.length; i++) {
        const expected = (3 * za[i] + 0.25 + (-0.5 * zb[i] + 0.25)) / 2;
        assert.ok(Math.abs(got[i] - expected) < 1e-5, `${got[i]} vs ${expected}`);
      }
      assert.deepEqual(stacked.band, band);
      // beside an unweighted model: members of the stacked manifest keep its weights and band
      const zc = (await Ensemble.load([c], { intraOpNumThreads: 1 }).then(async (e) => {
        try {
          return await e.predict(crops);
        } finally {
          await e.dispose();
        }
      }));
      assert.deepEqual(scan.frames!.weighting.map((w) => [w.weight, w.bias]), [[3, 0.25], [-0.5, 0.25], [1, 0]]);
      assert.deepEqual(scan.frames!.band, scan.plan.band, 'the scanner\'s frame ensemble carries the same weights and bands');
      const mixed = scan.plan.ensembleLogits([za, zb, zc], [0, 1]);
      assert.ok(Math.abs(mixed[0] - (3 * za[0] + 0.25 + (-0.5 * zb[0] + 0.25) + zc[0]) / 3) < 1e-5);
      const cBand = (await loadManifest(c)).manifest.decision;
      assert.ok(Math.abs(scan.plan.band.realBelow - (0.2 + 0.2 + cBand.realBelow) / 3) < 1e-12 && Math.abs(scan.plan.band.fakeAbove - (0.9 + 0.9 + cBand.fakeAbove) / 3) < 1e-12);
      // eval records the weighting of each member, and scores the named ensemble with it
      const run = await resolveRunModels([ens, c]);
      assert.deepEqual(run.map((m) => [m.entry.key, m.entry.weight, m.entry.bias, m.entry.ensembleBand]), [['a', 3, 0.25, band], ['b', -0.5, 0.25, band], ['c', undefined, undefined, undefined]]);
    } finally {
      await Promise.all([direct.dispose(), stacked.dispose(), scan.dispose()]);
    }
  });
});
