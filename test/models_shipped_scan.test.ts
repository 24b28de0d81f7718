/**
 * Every shipped model, by name, scans a real face photo (face-api's sample of three people): the
 * three faces are found and each gets a probability. Catches a shipped file that loads but cannot
 * run (a bad float16 or int8 conversion, a wrong input size in its manifest) before a user does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listShippedModels } from '../src/models/registry.js';
import { Scanner } from '../src/pipeline/scanner.js';
import * as fx from './helpers/media_fixtures.js';

test('each shipped model scans a photo of three people: three faces, each with a probability in (0, 1)', async () => {
  const shipped = await listShippedModels();
  assert.ok(shipped.length >= 2, 'models/ lists the shipped models');
  for (const m of shipped) {
    const scanner = await Scanner.create({ models: [m.name] });
    try {
      const r = await scanner.scan(fx.facePhoto(1));
      assert.equal(r.status, 'ok', `${m.name}: ${r.error?.message}`);
      assert.equal(r.frames.length, 3, `${m.name}: faces scored`);
      for (const f of r.frames) assert.ok(f.probability > 0 && f.probability < 1, `${m.name}: P(fake) ${f.probability}`);
      assert.ok(['FAKE', 'REAL', 'UNCERTAIN'].includes(r.verdict!), `${m.name}: verdict ${r.verdict}`);
    } finally {
      await scanner.dispose();
    }
  }
});
