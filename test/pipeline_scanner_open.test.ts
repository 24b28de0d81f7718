/**
 * Scanner.open (src/pipeline/scanner.ts): scans start while the classifiers' sessions open, with the
 * same results as Scanner.create, and a model that cannot be opened fails the scans and the command
 * (never an error result that blames the input).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Scanner, scanVideo } from '../src/pipeline/scanner.js';
import { ModelLoadError } from '../src/util/errors.js';
import { faceClip, noFaceClip } from './helpers/media_fixtures.js';
import { tempDir, writeModel } from './helpers/model_fixtures.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** A manifest whose ONNX file onnxruntime cannot load. */
async function brokenModel(): Promise<string> {
  return writeModel(await tempDir(), 'junk', () => {}, new TextEncoder().encode('this is not an onnx model\n'.repeat(20)));
}

test('a scan started before the sessions open (Scanner.open, scanVideo) gives the results of a scanner that waited for them', async () => {
  const clip = await faceClip();
  const created = await Scanner.create();
  const early = await Scanner.open();
  try {
    const [a, b, c] = [await created.scan(clip), await early.scan(clip), await scanVideo(clip)];
    assert.equal(a.status, 'ok');
    for (const r of [b, c]) {
      assert.equal(r.verdict, a.verdict);
      assert.equal(r.probability, a.probability);
      assert.deepEqual(r.frames.map((f) => f.modelProbabilities), a.frames.map((f) => f.modelProbabilities));
    }
    await early.ready;
  } finally {
    await Promise.all([created.dispose(), early.dispose()]);
  }
});

test('a model that cannot be opened: create and scanVideo reject, and an opened scanner\'s scans throw its error, faces or not', async () => {
  const broken = await brokenModel();
  await assert.rejects(Scanner.create({ models: [broken] }), (e: unknown) => e instanceof ModelLoadError && /cannot load model/.test(e.message));
  await assert.rejects(scanVideo(noFaceClip(), { models: [broken] }), ModelLoadError);
  const scanner = await Scanner.open({ models: [broken] });
  try {
    for (const input of [await faceClip(), noFaceClip()]) {
      await assert.rejects(scanner.scan(input), (e: unknown) => e instanceof ModelLoadError, input);
    }
    await assert.rejects(scanner.ready, ModelLoadError);
  } finally {
    await scanner.dispose();
  }
});

test('unmask scan with a model that cannot be opened exits 2 with one line naming it, whatever the input', async () => {
  // junk fails in onnxruntime; a missing file fails at once, while the detector is still loading
  const missing = writeModel(await tempDir(), 'gone', () => {}, null);
  for (const [model, message] of [[await brokenModel(), /^unmask: cannot load model .*junk\.onnx/], [await missing, /^unmask: .*gone\.onnx.*ONNX file not found/]] as const) {
    for (const input of [await faceClip(), noFaceClip()]) {
      const p = spawnSync(process.execPath, [cli, 'scan', '-m', model, input], { encoding: 'utf8' });
      assert.equal(p.status, 2, p.stderr);
      const lines = p.stderr.trim().split('\n');
      assert.equal(lines.length, 1, p.stderr);
      assert.match(lines[0], message);
      assert.equal(p.stdout, '');
    }
  }
});
