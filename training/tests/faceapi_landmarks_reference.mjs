// Reference for tests/test_faceapi_landmarks.py: runs face-api's own FaceLandmark68Net (the class in
// @vladmandic/face-api's bundle, on the TensorFlow.js it bundles, CPU backend) on a float32 NHWC batch.
//   node faceapi_landmarks_reference.mjs <input.f32> <batch> <output.json>
// The input is [batch, 112, 112, 3] RGB in 0-255; the output is the net's 136 numbers per picture
// ((x, y) of 68 points in [0, 1] of the square), as FaceLandmark68Net.forwardInput returns them.
import fs from 'node:fs';
import { join } from 'node:path';
import { faceApiDir as pkg, importFaceApiBundle } from './tfjs_bundle.mjs';

const [input, batch, output] = process.argv.slice(2);
const faceapi = await importFaceApiBundle('face-api.esm.js', (mod) => mod.tf);
const { tf } = faceapi;
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
