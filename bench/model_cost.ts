/**
 * Inference cost of frame models (prints figures; not a test): per manifest, the ONNX file size and
 * the milliseconds per face through FrameClassifier (onnxruntime-node, the scan's own path) at batch
 * 8 with 2 threads, on random crops at the model's input size (no resize). Wall time is measured:
 * the median and the fastest batch (the least disturbed by other programs on a shared machine) are
 * printed, with the load average.
 *
 *   node dist/bench/model_cost.js [--batch 8] [--threads 2] [--seconds 4] <manifest>...
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { FrameClassifier } from '../src/models/frame_classifier.js';
import type { FaceCrop, Keypoints } from '../src/types.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(args.splice(i, 2)[1]);
  if (!(v > 0)) throw new Error(`${name} needs a positive number`);
  return v;
};
const batch = opt('--batch', 8);
const threads = opt('--threads', 2);
const seconds = opt('--seconds', 4);
const manifests = args;
if (!manifests.length) {
  console.error('usage: node dist/bench/model_cost.js [--batch 8] [--threads 2] [--seconds 4] <manifest>...');
  process.exit(2);
}

function randomCrop(size: number, seed: number): FaceCrop {
  const rgb = Buffer.alloc(size * size * 3);
  let s = seed * 2654435761;
  for (let i = 0; i < rgb.length; i++) rgb[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  const keypoints = Array.from({ length: 6 }, () => [size / 2, size / 2]) as Keypoints;
  return { frameIndex: seed, timeMs: 0, trackId: 0, size, rgb, keypoints, detection: { box: { x: 0, y: 0, width: size, height: size }, keypoints, score: 1 } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(['model', 'arch', 'input', 'onnx MB', `median ms/face @b${batch}`, 'min ms/face', 'runs', 'load avg'].join('\t'));
for (const path of manifests) {
  const clf = await FrameClassifier.load(path, { batchSize: batch, intraOpNumThreads: threads });
  try {
    const size = clf.manifest.input.size;
    const crops = Array.from({ length: batch }, (_, i) => randomCrop(size, i + 1));
    for (let i = 0; i < 2; i++) await clf.predict(crops); // warm-up
    const times: number[] = [];
    const until = performance.now() + seconds * 1000;
    while (times.length < 3 || performance.now() < until) {
      const t = performance.now();
      await clf.predict(crops);
      times.push(performance.now() - t);
    }
    const mb = statSync(clf.onnxPath).size / 2 ** 20;
    const ms = (t: number) => (t / batch).toFixed(1);
    console.log([clf.manifest.name, clf.manifest.training.arch, size, mb.toFixed(1), ms(median(times)), ms(Math.min(...times)), times.length, loadavg()[0].toFixed(2)].join('\t'));
  } finally {
    await clf.dispose();
  }
}
