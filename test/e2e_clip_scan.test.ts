/**
 * End to end with a clip (temporal) model: a tiny hand-encoded NCTHW model scans a rendered clip of
 * three people (consecutive frames by the manifest's sampling), an image and a one-frame video (tracks
 * of one frame are padded, never dropped), alone and in an ensemble with a frame model.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Scanner } from '../src/pipeline/scanner.js';
import * as fx from './helpers/media_fixtures.js';
import { tempDir, writeModel } from './helpers/model_fixtures.js';
import { tinyClipOnnxModel } from './helpers/tiny_clip_onnx.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const CROP = { policy: 'margin', margin: 0.3, size: 64 };

let clipModel: string;
let frameModel: string;
let scanner: Scanner;

before(async () => {
  const dir = await tempDir();
  clipModel = await writeModel(
    dir,
    'tiny-clip',
    (m) => {
      m.kind = 'clip';
      m.input = { size: 8, layout: 'NCTHW', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], clipLength: 4, clipStride: 2, sampling: 'clip:12' };
      m.crop = CROP;
    },
    tinyClipOnnxModel({ clipLength: 4, size: 8 }),
  );
  frameModel = await writeModel(dir, 'tiny-frame', (m) => {
    m.input.size = 8;
    m.crop = CROP;
  });
  scanner = await Scanner.create({ models: [clipModel], threads: 1 });
});
after(async () => {
  await scanner?.dispose();
});

test('a clip model scans consecutive frames (its manifest sampling) and scores every face', async () => {
  assert.deepEqual(scanner.options.sampling, { kind: 'clip', count: 12 });
  const r = await scanner.scan(await fx.faceClip());
  assert.equal(r.status, 'ok', JSON.stringify(r.error));
  assert.equal(r.framesSampled, 12);
  assert.equal(r.tracks.length, 3);
  for (const t of r.tracks) assert.equal(t.frames, 12);
  assert.equal(r.frames.length, 36);
  for (const f of r.frames) assert.ok(f.probability > 0 && f.probability < 1);
  assert.ok(['FAKE', 'REAL', 'UNCERTAIN'].includes(r.verdict!));
  assert.deepEqual(r.models, [{ name: 'tiny-clip', version: '1' }]);
  assert.ok(!r.warnings.some((w) => w.includes('non-consecutive')));
  assert.ok(r.timings.classifyMs > 0);
});

test('an image and a one-frame video are scored (a 1-frame track is padded), not dropped', async () => {
  for (const input of [fx.facePhoto(2), fx.oneFrameClip()]) {
    const r = await scanner.scan(input);
    assert.equal(r.status, 'ok', `${input}: ${JSON.stringify(r.error)}`);
    assert.ok(r.tracks.length >= 1, input);
    assert.ok(r.frames.length >= 1);
    for (const f of r.frames) assert.ok(Number.isFinite(f.probability) && f.probability > 0 && f.probability < 1);
    assert.ok(r.probability !== null && r.verdict !== 'NO_FACE');
  }
});

test('frame and clip models ensemble in the order given; non-consecutive frames give a warning', async () => {
  const mixed = await Scanner.create({ models: [frameModel, clipModel], sampling: { kind: 'uniform', count: 6 }, threads: 1 });
  try {
    assert.deepEqual(mixed.models.map((m) => m.name), ['tiny-frame', 'tiny-clip']);
    const r = await mixed.scan(await fx.faceClip());
    assert.equal(r.status, 'ok');
    assert.equal(r.frames.length, 18);
    for (const f of r.frames) {
      assert.equal(f.modelProbabilities.length, 2);
      // the frame probability is the sigmoid of the mean of the members' logits
      const logit = (p: number) => Math.log(p / (1 - p));
      // one frame member: the alternate schedule runs it on every frame, and clip members always score
      const [pf, pc] = f.modelProbabilities;
      assert.ok(pf !== null && pc !== null);
      const mean = (logit(pf) + logit(pc)) / 2;
      assert.ok(Math.abs(f.probability - 1 / (1 + Math.exp(-mean))) < 1e-6);
    }
    assert.ok(r.warnings.some((w) => w.includes('non-consecutive')), r.warnings.join('; '));
  } finally {
    await mixed.dispose();
  }
});

test('CLI: scan --model <clip manifest> an image, exit 0 with a probability', () => {
  const p = spawnSync(process.execPath, [cli, 'scan', '--json', '--threads', '1', '-m', clipModel, fx.facePhoto(2)], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  const r = JSON.parse(p.stdout).results[0];
  assert.equal(r.status, 'ok');
  assert.ok(r.probability > 0 && r.probability < 1);
});
