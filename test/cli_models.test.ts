/** `unmask models` and describeShippedModels: what is shipped, which is the default, broken files listed with their error. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { formatModels } from '../src/cli/models_command.js';
import { describeShippedModels, type ModelSummary } from '../src/models/model_catalog.js';
import { listShippedModels, readDefaultModelName } from '../src/models/registry.js';
import { tempDir, writeModel } from './helpers/model_fixtures.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

test('unmask models --json lists every shipped model once, the default marked, ensembles with their members', async () => {
  const p = spawnSync(process.execPath, [cli, 'models', '--json'], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  const models = JSON.parse(p.stdout) as ModelSummary[];
  assert.deepEqual(models.map((m) => m.name), (await listShippedModels()).map((m) => m.name));
  const defaults = models.filter((m) => m.isDefault);
  assert.deepEqual(defaults.map((m) => m.name), [readDefaultModelName()]);
  for (const m of models) {
    assert.equal(m.error, undefined, `${m.name}: ${m.error}`);
    if (m.kind === 'ensemble') {
      assert.ok(m.members && m.members.length >= 2);
      for (const member of m.members) assert.ok(models.some((x) => x.name === member && x.kind !== 'ensemble'), `${m.name} member ${member} is shipped`);
    } else {
      assert.ok(m.inputSize && m.inputSize > 0 && m.onnxBytes && m.onnxBytes > 0 && m.arch);
    }
  }
  const table = spawnSync(process.execPath, [cli, 'models'], { encoding: 'utf8' });
  assert.equal(table.status, 0);
  assert.match(table.stdout, new RegExp(`^${defaults[0].name} \\(default\\)`, 'm'));
});

test('describeShippedModels: a broken manifest or ensemble is listed with its error, the rest still described', async () => {
  const dir = await tempDir();
  await writeModel(dir, 'good');
  await writeModel(dir, 'no-onnx', () => {}, null);
  await writeFile(join(dir, 'bad.manifest.json'), '{"name": 1}');
  await writeFile(join(dir, 'pair.ensemble.json'), JSON.stringify({ schema: 'unmask.ensemble/1', name: 'pair', members: [] }));
  await writeFile(join(dir, 'stack.ensemble.json'), JSON.stringify({ schema: 'unmask.ensemble/1', name: 'stack', members: ['good.manifest.json', 'good.manifest.json'], weights: [2, 0.5], bias: 0.1 }));
  await writeFile(join(dir, 'default.json'), JSON.stringify({ model: 'good' }));
  const models = await describeShippedModels(dir);
  assert.deepEqual(models.map((m) => [m.name, m.kind, m.isDefault, Boolean(m.error)]), [
    ['bad', 'frame', false, true],
    ['good', 'frame', true, false],
    ['no-onnx', 'frame', false, true],
    ['pair', 'ensemble', false, true],
    ['stack', 'ensemble', false, false],
  ]);
  const stack = models.find((m) => m.name === 'stack')!;
  assert.deepEqual([stack.members, stack.weights], [['good', 'good'], [2, 0.5]]);
  assert.equal(models.find((m) => m.name === 'good')!.weights, undefined);
  assert.match(formatModels(models), /^stack +ensemble +weighted mean of 2\.00 x good \+ 0\.50 x good/m);
  assert.match(models.find((m) => m.name === 'no-onnx')!.error!, /ONNX file missing/);
});
