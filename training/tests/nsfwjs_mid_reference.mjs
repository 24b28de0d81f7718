// Reference for tests/test_pretrained_nsfwjs_mid.py: runs nsfwjs's mobilenet_v2_mid graph model with
// TensorFlow.js itself (the copy bundled in @vladmandic/face-api, CPU backend) on a float32 NHWC batch.
//   node nsfwjs_mid_reference.mjs <input.f32> <batch> <output.json>
// The input is [batch, 224, 224, 3] rgb / 255, as nsfwjs feeds it; the output is its softmax.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [input, batch, output] = process.argv.slice(2);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(join(repo, 'package.json'));
// The bundle is built for browsers: on seeing Node it would reach for Node's util module, which the
// bundle does not include. Hide Node while it loads, then give it a minimal platform.
const versions = Object.getOwnPropertyDescriptor(process, 'versions');
Object.defineProperty(process, 'versions', { value: { ...process.versions, node: undefined }, configurable: true });
const tf = await import(join(repo, 'node_modules/@vladmandic/face-api/dist/tfjs.esm.js'));
Object.defineProperty(process, 'versions', versions);
tf.setPlatform('unmask-test', {
  fetch: globalThis.fetch,
  now: () => performance.now(),
  encode: (text) => new TextEncoder().encode(text),
  decode: (bytes, encoding) => new TextDecoder(encoding).decode(bytes),
  setTimeoutCustom: (f, ms) => setTimeout(f, ms),
  isTypedArray: (a) => ArrayBuffer.isView(a) && !(a instanceof DataView),
});
await tf.setBackend('cpu');

const dir = join(repo, 'node_modules/nsfwjs/dist/models/mobilenet_v2_mid');
const model = require(join(dir, 'model.min.js'));
const group = model.weightsManifest[0];
const data = Buffer.concat(group.paths.map((p) => Buffer.from(require(join(dir, `${p}.min.js`)), 'base64')));
const net = await tf.loadGraphModel(
  tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: group.weights, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) }),
);
const raw = fs.readFileSync(input);
const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), [Number(batch), 224, 224, 3]);
const y = net.execute(x);
fs.writeFileSync(output, JSON.stringify({ shape: y.shape, data: Array.from(y.dataSync()) }));
