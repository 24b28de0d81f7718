/** The optional `output.explanation` manifest field: old manifests stay valid, bad values are named. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '../src/models/manifest.js';
import { InvalidManifestError } from '../src/util/errors.js';
import { validManifestJson } from './helpers/model_fixtures.js';

function rejectsNaming(json: unknown, field: string): void {
  assert.throws(
    () => parseManifest(json, 'x.json'),
    (e: unknown) => e instanceof InvalidManifestError && e.message.includes(field) && !e.message.includes('\n'),
  );
}

describe('manifest output.explanation', () => {
  it('is optional: a manifest without it is valid and has none', () => {
    assert.equal(parseManifest(validManifestJson(), 'x.json').output.explanation, undefined);
  });

  it('accepts grad-cam and attention maps', () => {
    for (const method of ['grad-cam', 'attention'] as const) {
      const m = validManifestJson();
      m.output.explanation = { output: method === 'attention' ? 'attention' : 'cam', method };
      assert.deepEqual(parseManifest(m, 'x.json').output.explanation, m.output.explanation);
    }
  });

  it('rejects an unknown method, an empty or missing output name', () => {
    const bad = validManifestJson();
    bad.output.explanation = { output: 'cam', method: 'saliency' };
    rejectsNaming(bad, 'output.explanation.method');
    const empty = validManifestJson();
    empty.output.explanation = { output: '', method: 'grad-cam' };
    rejectsNaming(empty, 'output.explanation.output');
    const missing = validManifestJson();
    missing.output.explanation = { method: 'grad-cam' };
    rejectsNaming(missing, 'output.explanation.output');
  });
});
