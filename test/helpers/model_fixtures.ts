/** Test helpers: valid manifests, model folders on disk, and synthetic face crops. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FaceCrop, Keypoints } from '../../src/types.js';
import { tinyOnnxModel, type TinyModelOptions } from './tiny_onnx.js';
import { tempDir as newTempDir } from './temp_dir.js';

/** A manifest object that passes the schema; `size` 4, ImageNet-like normalisation. */
export function validManifestJson(): Record<string, any> {
  return {
    name: 'tiny',
    version: '1',
    kind: 'frame',
    file: 'tiny.onnx',
    input: { size: 4, layout: 'NCHW', mean: [0.5, 0.4, 0.3], std: [0.25, 0.5, 0.2] },
    crop: { policy: 'scale' },
    output: { meaning: 'logit_fake' },
    calibration: { temperature: 1 },
    decision: { realBelow: 0.3, fakeAbove: 0.7 },
    training: { data: ['synthetic'], command: 'none', arch: 'ReduceMean' },
  };
}

/** A fresh temporary folder (removed when the test process exits). */
export async function tempDir(): Promise<string> {
  return newTempDir('models');
}

/**
 * Writes `<dir>/<name>.manifest.json` (valid manifest with `patch` applied on top, `file` =
 * `<name>.onnx`) and, unless `onnx` is null, the ONNX file (default: tiny ReduceMean model).
 * Returns the manifest path.
 */
export async function writeModel(
  dir: string,
  name: string,
  patch: (m: Record<string, any>) => void = () => {},
  onnx: Uint8Array | TinyModelOptions | null = {},
): Promise<string> {
  const manifest = { ...validManifestJson(), name, file: `${name}.onnx` };
  patch(manifest);
  const manifestPath = join(dir, `${name}.manifest.json`);
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2));
  if (onnx !== null) {
    await writeFile(join(dir, manifest.file), onnx instanceof Uint8Array ? onnx : tinyOnnxModel(onnx));
  }
  return manifestPath;
}

/** A `size` px crop whose pixel (x, y) has colour `pixel(x, y)`. */
export function makeCrop(
  size: number,
  pixel: (x: number, y: number) => [number, number, number],
  frameIndex = 0,
  trackId = 0,
): FaceCrop {
  const rgb = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) rgb.set(pixel(x, y), (y * size + x) * 3);
  }
  const keypoints = Array.from({ length: 6 }, (_, i) => [i, i + 1]) as Keypoints;
  return {
    frameIndex,
    timeMs: frameIndex * 40,
    trackId,
    size,
    rgb,
    keypoints,
    detection: { box: { x: 0, y: 0, width: size, height: size }, keypoints, score: 1 },
  };
}

/** Expected output of the tiny model: the mean over channels and pixels of the normalised crop. */
export function expectedMeanLogit(crop: FaceCrop, mean: readonly number[], std: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < crop.rgb.length; i++) s += (crop.rgb[i] / 255 - mean[i % 3]) / std[i % 3];
  return s / crop.rgb.length;
}
