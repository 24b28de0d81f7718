/**
 * Classifier sessions in the inference worker thread (src/models/inference_worker.ts): the same
 * logits as a session on the calling thread, the calling thread free while a batch runs, one-line
 * load errors, and sessions of one process sharing the thread.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FrameClassifier } from '../src/models/frame_classifier.js';
import { resolveModels } from '../src/models/registry.js';
import { ModelLoadError } from '../src/util/errors.js';
import { makeCrop, tempDir, writeModel } from './helpers/model_fixtures.js';

/** Event-loop turns the calling thread gets while `work` is in flight. */
async function turnsDuring(work: Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  await work;
  done = true;
  return turns;
}

describe('inference worker', () => {
  it('gives the shipped model the same logits as a session on the calling thread', async () => {
    const [manifest] = await resolveModels(['unmask-faceres-pre']);
    const size = 150;
    const crops = Array.from({ length: 20 }, (_, k) => makeCrop(size, (x, y) => [(x * 3 + k * 11) % 256, (y * 5 + k) % 256, (x + y + 7 * k) % 256], k, 0));
    const inWorker = await FrameClassifier.load(manifest, { inferenceWorker: true });
    const inProcess = await FrameClassifier.load(manifest, { inferenceWorker: false });
    try {
      const [a, b] = [await inWorker.predict(crops), await inProcess.predict(crops)];
      assert.equal(a.length, crops.length);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-4, `crop ${i}: ${v} vs ${b[i]}`));
    } finally {
      await Promise.all([inWorker.dispose(), inProcess.dispose()]);
    }
  });

  it('leaves the calling thread free while a batch runs (on the calling thread it is blocked)', async () => {
    const [manifest] = await resolveModels(['unmask-faceres-pre']);
    const crops = Array.from({ length: 32 }, (_, k) => makeCrop(150, () => [k * 7, 90, 200 - k], k, 0));
    const inWorker = await FrameClassifier.load(manifest, { inferenceWorker: true, batchSize: 32 });
    const inProcess = await FrameClassifier.load(manifest, { inferenceWorker: false, batchSize: 32 });
    try {
      await Promise.all([inWorker.predict(crops.slice(0, 2)), inProcess.predict(crops.slice(0, 2))]); // warm-up
      const free = await turnsDuring(inWorker.predict(crops));
      const blocked = await turnsDuring(inProcess.predict(crops));
      // one 32-crop batch: the worker's caller keeps turning; the blocked caller gets a turn or two around the run
      assert.ok(free > 20, `only ${free} event-loop turns while the worker ran`);
      assert.ok(blocked < free / 4, `calling-thread session: ${blocked} turns, worker: ${free}`);
    } finally {
      await Promise.all([inWorker.dispose(), inProcess.dispose()]);
    }
  });

  it('several sessions share the thread, and a bad file is a one-line ModelLoadError that leaves the others working', async () => {
    const dir = await tempDir();
    const a = await FrameClassifier.load(await writeModel(dir, 'a'), { batchSize: 2 });
    const b = await FrameClassifier.load(await writeModel(dir, 'b'), { batchSize: 3 });
    const broken = await writeModel(dir, 'broken');
    await writeFile(join(dir, 'broken.onnx'), 'not an onnx file');
    await assert.rejects(FrameClassifier.load(broken), (e: unknown) => {
      assert.ok(e instanceof ModelLoadError, String(e));
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
    const crops = Array.from({ length: 5 }, (_, k) => makeCrop(4, () => [k * 40, 10, 250], k, 0));
    try {
      const [la, lb] = await Promise.all([a.predict(crops), b.predict(crops)]);
      assert.deepEqual([...la], [...lb]); // same tiny model, other batch sizes
    } finally {
      await a.dispose();
    }
    assert.equal((await b.predict(crops)).length, 5); // still served after the other session ended
    await b.dispose();
  });
});
