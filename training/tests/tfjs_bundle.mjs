// The TensorFlow.js that @vladmandic/face-api bundles, loaded in Node for the tests' reference scripts
// (nsfwjs_mid_reference.mjs, faceapi_landmarks_reference.mjs), CPU backend.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const faceApiDir = join(repo, 'node_modules/@vladmandic/face-api');

/** Imports `dist/<file>` of face-api (its tfjs.esm.js or face-api.esm.js) and readies the bundled tf. */
export async function importFaceApiBundle(file, pickTf = (mod) => mod) {
  // The bundle is built for browsers: on seeing Node it would reach for Node's util module, which the
  // bundle does not include. Hide Node while it loads, then give it a minimal platform.
  const versions = Object.getOwnPropertyDescriptor(process, 'versions');
  Object.defineProperty(process, 'versions', { value: { ...process.versions, node: undefined }, configurable: true });
  const mod = await import(join(faceApiDir, 'dist', file));
  Object.defineProperty(process, 'versions', versions);
  const tf = pickTf(mod);
  tf.setPlatform('unmask-test', {
    fetch: globalThis.fetch,
    now: () => performance.now(),
    encode: (text) => new TextEncoder().encode(text),
    decode: (bytes, encoding) => new TextDecoder(encoding).decode(bytes),
    setTimeoutCustom: (f, ms) => setTimeout(f, ms),
    isTypedArray: (a) => ArrayBuffer.isView(a) && !(a instanceof DataView),
  });
  await tf.setBackend('cpu');
  return mod;
}
