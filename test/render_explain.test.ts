/**
 * Explanation maps: FrameClassifier.explain on a model with a map output, the PNG rendering, and
 * `unmask scan --explain` end to end with a frame model exported by the training package.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { FrameClassifier, type ExplanationMap } from '../src/models/frame_classifier.js';
import { blendMap, explainFileName, jet, normaliseMap, upsampleBilinear, writeExplanationMaps } from '../src/render/explain_maps.js';
import { ModelLoadError } from '../src/util/errors.js';
import { exportTinyFrameModel, tinyExplainOnnx } from './helpers/explain_fixtures.js';
import { facePhoto } from './helpers/media_fixtures.js';
import { makeCrop, tempDir, writeModel } from './helpers/model_fixtures.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

describe('FrameClassifier with an explanation output', () => {
  let dir: string;
  let clf: FrameClassifier;
  const crops = [0, 1, 2].map((k) => makeCrop(8, (x, y) => [(30 * x + 50 * k) % 256, (20 * y) % 256, (x * y * 7 + k) % 256], k, 0));

  before(async () => {
    dir = await tempDir();
    const path = await writeModel(dir, 'explain8', (m) => {
      m.input.size = 8;
      m.output.explanation = { output: 'cam', method: 'grad-cam' };
    }, tinyExplainOnnx(8));
    clf = await FrameClassifier.load(path, { batchSize: 2, intraOpNumThreads: 1 });
  });
  after(() => clf.dispose());

  it('is explainable, predicts as before, and returns one map per crop with exact values', async () => {
    assert.equal(clf.explainable, true);
    const { logits, maps } = await clf.explain(crops);
    assert.deepEqual(Array.from(logits), Array.from(await clf.predict(crops)));
    assert.equal(maps.length, 3);
    const { mean, std } = clf.manifest.input;
    crops.forEach((c, i) => {
      assert.equal(maps[i].width, 8);
      assert.equal(maps[i].height, 8);
      assert.equal(maps[i].method, 'grad-cam');
      for (const p of [0, 9, 63]) {
        let s = 0;
        for (let ch = 0; ch < 3; ch++) s += (c.rgb[p * 3 + ch] / 255 - mean[ch]) / std[ch];
        close(maps[i].values[p], Math.max(0, s / 3));
      }
    });
  });

  it('writes one PNG per crop at the crop size, plus maps.json', async () => {
    const { logits, maps } = await clf.explain(crops);
    const out = join(dir, 'maps');
    const written = await writeExplanationMaps(out, crops, maps, logits);
    assert.deepEqual((await readdir(out)).sort(), ['f000000_t0.png', 'f000001_t0.png', 'f000002_t0.png', 'maps.json']);
    for (const w of written) {
      const meta = await sharp(w.file).metadata();
      assert.deepEqual([meta.width, meta.height, meta.format], [8, 8, 'png']);
    }
    const index = JSON.parse(await readFile(join(out, 'maps.json'), 'utf8'));
    assert.equal(index.method, 'grad-cam');
    assert.deepEqual(index.maps.map((m: { file: string }) => m.file), ['f000000_t0.png', 'f000001_t0.png', 'f000002_t0.png']);
  });

  it('rejects a manifest naming an output the model does not have', async () => {
    const path = await writeModel(dir, 'wrongname', (m) => {
      m.input.size = 8;
      m.output.explanation = { output: 'heatmap', method: 'grad-cam' };
    }, tinyExplainOnnx(8));
    await assert.rejects(FrameClassifier.load(path), (e: unknown) => e instanceof ModelLoadError && /"heatmap" is not an output/.test(e.message));
  });

  it('rejects a two-output model whose manifest names no explanation, and explain() on a plain model', async () => {
    const path = await writeModel(dir, 'unnamed', (m) => (m.input.size = 8), tinyExplainOnnx(8));
    await assert.rejects(FrameClassifier.load(path), /expected 1 input and 1 output, found 1 inputs and 2 outputs/);
    const plain = await FrameClassifier.load(await writeModel(dir, 'plain'));
    try {
      assert.equal(plain.explainable, false);
      await assert.rejects(plain.explain([makeCrop(4, () => [1, 2, 3])]), /no explanation output/);
    } finally {
      await plain.dispose();
    }
  });
});

describe('explanation rendering', () => {
  const map = (values: number[], w: number, h: number, method: ExplanationMap['method'] = 'grad-cam'): ExplanationMap => ({
    method, width: w, height: h, values: Float32Array.from(values),
  });

  it('normalises Grad-CAM by its maximum and keeps attention values', () => {
    assert.deepEqual(Array.from(normaliseMap(map([0, 2, 4, 1], 2, 2))), [0, 0.5, 1, 0.25]);
    assert.deepEqual(Array.from(normaliseMap(map([0, 0, 0, 0], 2, 2))), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(normaliseMap(map([0.25, 0.5, 1.5, -1], 2, 2, 'attention'))), [0.25, 0.5, 1, 0]);
  });

  it('upsamples bilinearly with align_corners=False', () => {
    // 2 -> 4: output centres at input coords -0.25, 0.25, 0.75, 1.25 (clamped): 0, 0.25, 0.75, 1 of the way.
    const up = upsampleBilinear(Float32Array.from([0, 1, 0, 1]), 2, 2, 4);
    assert.deepEqual(Array.from(up.slice(0, 4)), [0, 0.25, 0.75, 1]);
    const flat = upsampleBilinear(Float32Array.from([3]), 1, 1, 5);
    assert.ok(flat.every((v) => v === 3));
  });

  it('jet goes from blue to red and blends over the crop', () => {
    assert.deepEqual(jet(0), [0, 0, 128]);
    assert.deepEqual(jet(1), [128, 0, 0]);
    const crop = makeCrop(4, () => [100, 100, 100]);
    const rgb = blendMap(crop, map([0, 1, 0, 1], 2, 2), { alpha: 0.5 });
    assert.equal(rgb.length, 4 * 4 * 3);
    // left column: cold (more blue than red); right column: hot (more red than blue)
    assert.ok(rgb[2] > rgb[0]);
    assert.ok(rgb[3 * 3] > rgb[3 * 3 + 2]);
    assert.equal(explainFileName({ frameIndex: 12, trackId: 3 }), 'f000012_t3.png');
  });
});

describe('unmask scan --explain (model exported by the training package)', () => {
  let dir: string;
  let manifest: string | null;

  before(async () => {
    dir = await tempDir();
    manifest = exportTinyFrameModel(dir, 'tiny-xs', 'resnet_xs', 96);
  });

  it('writes one PNG per scanned face crop, at the crop size, with the Grad-CAM method', async (t) => {
    if (!manifest) return t.skip('no Python with torch, torchvision and onnx: cannot export the fixture model');
    const man = JSON.parse(await readFile(manifest, 'utf8'));
    assert.deepEqual(man.output.explanation, { output: 'cam', method: 'grad-cam' });
    const out = join(dir, 'explain');
    const r = spawnSync(process.execPath, [cli, 'scan', '--model', manifest, '--json', '--explain', out, facePhoto(1)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout).results[0];
    assert.ok(result.frames.length >= 2, `the photo has several faces (${result.frames.length})`);
    const [key] = await readdir(out);
    const files = (await readdir(join(out, key, 'tiny-xs'))).filter((f) => f.endsWith('.png')).sort();
    const want = result.frames.map((f: { frameIndex: number; trackId: number }) => explainFileName(f)).sort();
    assert.deepEqual(files, want, 'one map per scored crop');
    for (const f of files) {
      const meta = await sharp(join(out, key, 'tiny-xs', f)).metadata();
      // the scan cuts crops at the model's input size (see scanCropOptions)
      assert.deepEqual([meta.width, meta.height], [man.input.size, man.input.size]);
    }
  });

  it('fails early, in one line, when no model can explain', async () => {
    const plainDir = await tempDir();
    const plain = await writeModel(plainDir, 'plain', (m) => (m.crop = { policy: 'margin', margin: 0.3 }));
    const r = spawnSync(process.execPath, [cli, 'scan', '--model', plain, '--explain', join(plainDir, 'x'), facePhoto(1)], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^unmask: --explain: none of the models has an explanation output/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('skips, with a warning, a model that takes crops of another margin than the scan hands out', async () => {
    const { FaceExplainer } = await import('../src/pipeline/explain_faces.js');
    const { resolveModel } = await import('../src/models/registry.js');
    const shipped = await resolveModel('unmask-mbv2-128-lm');
    const tightDir = await tempDir();
    const tight = await writeModel(tightDir, 'tight', (m) => {
      m.crop = { policy: 'margin', margin: 0.15 };
      m.output = { meaning: 'logit_fake', explanation: { output: 'cam', method: 'grad-cam' } };
    });
    const explainer = await FaceExplainer.create([shipped, tight]);
    try {
      assert.deepEqual(explainer.explainableModels.map((m) => m.manifest.name), ['unmask-mbv2-128-lm']);
      assert.deepEqual(explainer.warnings, ['--explain: model tight takes crops with margin 0.15, the scan hands out 0.3 (its first model\'s); no maps for it']);
    } finally {
      await explainer.dispose();
    }
  });
});
