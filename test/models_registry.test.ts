import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import {
  DEFAULT_MODEL_NAME,
  listShippedModels,
  packageRoot,
  readDefaultModelName,
  resolveModel,
  shippedModelsDir,
} from '../src/models/registry.js';
import { InputNotFoundError, UnmaskError } from '../src/util/errors.js';
import { tempDir, writeModel } from './helpers/model_fixtures.js';

/** Asserts the promise rejects with an UnmaskError of `code` whose message matches `pattern`. */
async function rejectsCode(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UnmaskError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('model registry', () => {
  it('finds the package root named unmask', () => {
    const root = packageRoot();
    assert.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name, 'unmask');
    assert.equal(shippedModelsDir(), join(root, 'models'));
  });

  it('lists manifests sorted by name, ignoring other files; [] for a missing folder', async () => {
    const dir = await tempDir();
    await writeModel(dir, 'zeta', () => {}, null);
    await writeModel(dir, 'alpha', () => {}, null);
    await writeFile(join(dir, 'notes.json'), '{}');
    await writeFile(join(dir, '.manifest.json'), '{}');
    const models = await listShippedModels(dir);
    assert.deepEqual(
      models.map((m) => [m.name, m.manifestPath]),
      [
        ['alpha', join(dir, 'alpha.manifest.json')],
        ['zeta', join(dir, 'zeta.manifest.json')],
      ],
    );
    assert.deepEqual(await listShippedModels(join(dir, 'absent')), []);
  });

  it('resolves shipped names and manifest paths', async () => {
    const dir = await tempDir();
    const path = await writeModel(dir, 'alpha', () => {}, null);
    assert.equal(await resolveModel('alpha', dir), path);
    assert.equal(await resolveModel(path, dir), path);
    assert.equal(await resolveModel(relative(process.cwd(), path), dir), path);
  });

  it('shipped ensembles (<name>.ensemble.json) are listed, resolved by name, and can be the default', async () => {
    const dir = await tempDir();
    const a = await writeModel(dir, 'a', () => {}, null);
    await writeModel(dir, 'b', () => {}, null);
    const ens = join(dir, 'ab.ensemble.json');
    await writeFile(ens, JSON.stringify({ schema: 'unmask.ensemble/1', name: 'ab', members: ['a.manifest.json', 'b.manifest.json'] }));
    assert.deepEqual(
      (await listShippedModels(dir)).map((m) => [m.name, m.ensemble]),
      [['a', false], ['ab', true], ['b', false]],
    );
    assert.equal(await resolveModel('ab', dir), ens);
    assert.equal(await resolveModel('a', dir), a);
    await writeFile(join(dir, 'default.json'), JSON.stringify({ model: 'ab' }));
    assert.equal(await resolveModel(undefined, dir), ens);
    await writeFile(join(dir, 'default.json'), JSON.stringify({ model: 'cd' }));
    await rejectsCode(resolveModel(undefined, dir), 'NO_MODEL', /default model "cd" is not installed: .*cd\.manifest\.json \(or cd\.ensemble\.json\)/);
  });

  it('reports unknown names with the list of shipped ones, and missing paths', async () => {
    const dir = await tempDir();
    await writeModel(dir, 'alpha', () => {}, null);
    await rejectsCode(resolveModel('beta', dir), 'UNKNOWN_MODEL', /unknown model "beta" \(shipped models: alpha\)/);
    await rejectsCode(resolveModel('beta', await tempDir()), 'UNKNOWN_MODEL', /no models are shipped/);
    await assert.rejects(resolveModel(join(dir, 'nope.manifest.json'), dir), InputNotFoundError);
  });

  it('default model: NO_MODEL without default.json or when its manifest is missing', async () => {
    const dir = await tempDir();
    assert.equal(readDefaultModelName(dir), null);
    await rejectsCode(resolveModel(undefined, dir), 'NO_MODEL', /no default model is installed/);
    await writeFile(join(dir, 'default.json'), JSON.stringify({ model: 'alpha' }));
    assert.equal(readDefaultModelName(dir), 'alpha');
    await rejectsCode(resolveModel(undefined, dir), 'NO_MODEL', /default model "alpha" is not installed/);
    const path = await writeModel(dir, 'alpha', () => {}, null);
    assert.equal(await resolveModel(undefined, dir), path);
  });

  it('malformed default.json is BAD_DEFAULT_MODEL', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'default.json'), JSON.stringify({ name: 'alpha' }));
    assert.throws(() => readDefaultModelName(dir), (e: unknown) => e instanceof UnmaskError && e.code === 'BAD_DEFAULT_MODEL');
    await writeFile(join(dir, 'default.json'), '{');
    await rejectsCode(resolveModel(undefined, dir), 'BAD_DEFAULT_MODEL', /default\.json must be/);
  });

  it('DEFAULT_MODEL_NAME matches the shipped default.json', async () => {
    const shippedDefault = join(shippedModelsDir(), 'default.json');
    if (!existsSync(shippedDefault)) {
      assert.equal(DEFAULT_MODEL_NAME, null);
      await rejectsCode(resolveModel(), 'NO_MODEL', /no default model/);
    } else {
      assert.equal(DEFAULT_MODEL_NAME, readDefaultModelName());
    }
  });
});

describe('model registry with a nested models folder', () => {
  it('a manifest in a subfolder is addressed by path, not by name', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub'));
    const path = await writeModel(join(dir, 'sub'), 'inner', () => {}, null);
    await rejectsCode(resolveModel('inner', dir), 'UNKNOWN_MODEL', /inner/);
    assert.equal(await resolveModel(path, dir), path);
  });
});
