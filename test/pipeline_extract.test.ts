/** `extract` writes crops + records, resumes, and records bad inputs instead of failing the batch. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { extractAll, type ExtractRecord } from '../src/pipeline/extract.js';
import { collectInputs } from '../src/pipeline/inputs.js';
import * as fx from './helpers/media_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

test('extract: crops, records, resume, error and no-face records', async () => {
  const out = tempDir('extract');
  const inputs = await collectInputs([await fx.faceClip(), fx.noFaceClip(), fx.textAsMp4()]);
  const opts = { outDir: out, sampling: { kind: 'uniform', count: 6 } as const };
  const first = await extractAll(inputs, opts);
  assert.deepEqual(first.map((o) => o.status), ['ok', 'no_face', 'error']);

  const rec = JSON.parse(readFileSync(join(out, `${inputs[0].key}.json`), 'utf8')) as ExtractRecord;
  assert.equal(rec.schema, 'unmask.extract/1');
  assert.equal(rec.framesDecoded?.length, 6);
  // the photo shows three people: three tracks, each seen in every sampled frame
  assert.equal(new Set(rec.faces.map((f) => f.trackId)).size, 3);
  assert.equal(rec.faces.length, 18);
  for (const f of rec.faces) {
    const meta = await sharp(join(out, f.file)).metadata();
    assert.deepEqual([meta.width, meta.height], [256, 256]);
    for (const [x, y] of f.cropKeypoints.slice(0, 4)) assert.ok(x > 0 && x < 256 && y > 0 && y < 256, `keypoint ${x},${y} inside crop`);
  }
  const bad = JSON.parse(readFileSync(join(out, `${inputs[2].key}.json`), 'utf8')) as ExtractRecord;
  assert.equal(bad.errorCode, 'UNREADABLE_MEDIA');

  // resumable: finished inputs are skipped, the failed one is tried again
  const second = await extractAll(inputs, opts);
  assert.deepEqual(second.map((o) => o.status), ['skipped', 'skipped', 'error']);
  assert.ok(existsSync(join(out, `${inputs[1].key}.json`)));
});
