import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadManifest, parseManifest } from '../src/models/manifest.js';
import { InvalidManifestError } from '../src/util/errors.js';
import { tempDir, validManifestJson, writeModel } from './helpers/model_fixtures.js';

/** Asserts `fn` throws InvalidManifestError whose message names `field`. */
function throwsNaming(fn: () => unknown, field: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidManifestError, `not an InvalidManifestError: ${String(err)}`);
    assert.equal(err.code, 'INVALID_MANIFEST');
    assert.match(err.message, new RegExp(field.replace('.', '\\.')));
    assert.ok(!err.message.includes('\n'), 'one-line message');
    return true;
  });
}

describe('model manifest', () => {
  it('accepts a valid manifest and defaults metrics', () => {
    const m = parseManifest(validManifestJson(), 'x.json');
    assert.equal(m.name, 'tiny');
    assert.deepEqual(m.decision, { realBelow: 0.3, fakeAbove: 0.7 });
    assert.deepEqual(m.metrics, {});
  });

  it('names a missing field', () => {
    const m = validManifestJson();
    delete m.input.size;
    throwsNaming(() => parseManifest(m, 'x.json'), 'input.size');
    const n = validManifestJson();
    delete n.calibration;
    throwsNaming(() => parseManifest(n, 'x.json'), 'calibration');
  });

  it('rejects a band with realBelow > fakeAbove, naming decision', () => {
    const m = validManifestJson();
    m.decision = { realBelow: 0.8, fakeAbove: 0.2 };
    throwsNaming(() => parseManifest(m, 'x.json'), 'decision');
  });

  it('rejects a wrong output meaning, naming output.meaning', () => {
    const m = validManifestJson();
    m.output.meaning = 'logit_real';
    throwsNaming(() => parseManifest(m, 'x.json'), 'output.meaning');
  });

  it('loads from disk and resolves the ONNX path beside the manifest', async () => {
    const dir = await tempDir();
    const path = await writeModel(dir, 'm1', () => {}, null);
    const loaded = await loadManifest(path);
    assert.equal(loaded.manifestPath, path);
    assert.equal(loaded.onnxPath, join(dir, 'm1.onnx'));
  });

  it('reports unreadable files and bad JSON as InvalidManifestError', async () => {
    const dir = await tempDir();
    await assert.rejects(loadManifest(join(dir, 'absent.manifest.json')), InvalidManifestError);
    const bad = join(dir, 'bad.manifest.json');
    await writeFile(bad, '{not json');
    await assert.rejects(loadManifest(bad), /not valid JSON/);
  });
});
