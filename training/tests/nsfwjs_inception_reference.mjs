// Reference for tests/test_pretrained_nsfwjs_inception.py: runs nsfwjs's inception_v3 layers model with
// TensorFlow.js itself (the copy bundled in @vladmandic/face-api, CPU backend) on a float32 NHWC batch.
//   node nsfwjs_inception_reference.mjs <input.f32> <batch> <output.json>
// The input is [batch, 299, 299, 3] rgb / 255, as nsfwjs feeds it; the output is its softmax.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { importFaceApiBundle, repo } from './tfjs_bundle.mjs';

const [input, batch, output] = process.argv.slice(2);
const require = createRequire(join(repo, 'package.json'));
const tf = await importFaceApiBundle('tfjs.esm.js');

const dir = join(repo, 'node_modules/nsfwjs/dist/models/inception_v3');
const model = require(join(dir, 'model.min.js'));
const specs = model.weightsManifest.flatMap((g) => g.weights);
const data = Buffer.concat(model.weightsManifest.flatMap((g) => g.paths.map((p) => Buffer.from(require(join(dir, `${p}.min.js`)), 'base64'))));
const net = await tf.loadLayersModel(
  tf.io.fromMemory({ modelTopology: model.modelTopology, weightSpecs: specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) }),
);
const raw = fs.readFileSync(input);
const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), [Number(batch), 299, 299, 3]);
const y = net.predict(x);
fs.writeFileSync(output, JSON.stringify({ shape: y.shape, data: Array.from(y.dataSync()) }));
