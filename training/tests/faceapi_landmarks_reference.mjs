// Reference for tests/test_faceapi_landmarks.py: runs face-api's own FaceLandmark68Net (the class in
// @vladmandic/face-api's bundle, on the TensorFlow.js it bundles, CPU backend) on a float32 NHWC batch.
//   node faceapi_landmarks_reference.mjs <input.f32> <batch> <output.json>
// The input is [batch, 112, 112, 3] RGB in 0-255; the output is the net's 136 numbers per picture
// ((x, y) of 68 points in [0, 1] of the square), as FaceLandmark68Net.forwardInput returns them.
import fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [input, batch, output] = process.argv.slice(2);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = join(repo, 'node_modules/@vladmandic/face-api');
// The bundle is built for browsers: on seeing Node it would reach for Node's util module, which the
// bundle does not include. Hide Node while it loads, then give it a minimal platform.
const versions = Object.getOwnPropertyDescriptor(process, 'versions');
Object.defineProperty(process, 'versions', { value: { ...process.versions, node: undefined }, configurable: true });
const faceapi = await import(join(pkg, 'dist/face-api.esm.js'));
Object.defineProperty(process, 'versions', versions);
const { tf } = faceapi;
tf.setPlatform('unmask-test', {
  fetch: globalThis.fetch,
  now: () => performance.now(),
  encode: (text) => new TextEncoder().encode(text),
  decode: (bytes, encoding) => new TextDecoder(encoding).decode(bytes),
  setTimeoutCustom: (f, ms) => setTimeout(f, ms),
  isTypedArray: (a) => ArrayBuffer.isView(a) && !(a instanceof DataView),
});
await tf.setBackend('cpu');
// toNetInput asks the environment whether an input is a media element; tensors never are.
class NoMedia {}
faceapi.env.monkeyPatch({ Canvas: NoMedia, Image: NoMedia, ImageData: NoMedia, Video: NoMedia, createCanvasElement: () => new NoMedia(), createImageElement: () => new NoMedia() });

const manifest = JSON.parse(fs.readFileSync(join(pkg, 'model/face_landmark_68_model-weights_manifest.json'), 'utf8'));
const group = manifest[0];
const data = Buffer.concat(group.paths.map((p) => fs.readFileSync(join(pkg, 'model', p))));
const weightMap = tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.length), group.weights);
const net = new faceapi.FaceLandmark68Net();
net.loadFromWeightMap(weightMap);

const raw = fs.readFileSync(input);
const n = Number(batch);
const x = tf.tensor4d(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), [n, 112, 112, 3]);
const tensors = tf.unstack(x).map((t) => t.expandDims(0));
const netInput = await faceapi.toNetInput(tensors.length === 1 ? tensors[0] : tensors);
const y = net.forwardInput(netInput);
fs.writeFileSync(output, JSON.stringify({ shape: y.shape, data: Array.from(y.dataSync()) }));
