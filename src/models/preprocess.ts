/**
 * Classifier input preparation: bring face crops to the model's side length and pack them into one
 * normalised NCHW float32 tensor.
 */
import sharp from 'sharp';
import type { FaceCrop } from '../types.js';

/** Per-channel RGB triple, as in the manifest's `input.mean` / `input.std`. */
export type Rgb = readonly [number, number, number];

/**
 * Packs square RGB crops (each `size` x `size` x 3 uint8, row-major, top-down) into one NCHW
 * float32 buffer of length `crops.length * 3 * size * size`, where each value is
 * `(v / 255 - mean[c]) / std[c]`. Pure: no I/O, the input is not modified.
 *
 * @throws RangeError if a crop's `size` differs from `size` or its `rgb` has the wrong length,
 *   or if a `std` component is zero.
 */
export function cropsToTensor(crops: readonly FaceCrop[], size: number, mean: Rgb, std: Rgb): Float32Array {
  if (std.some((s) => s === 0)) throw new RangeError('std components must be non-zero');
  const plane = size * size;
  const out = new Float32Array(crops.length * 3 * plane);
  // (v / 255 - m) / s == v * scale[c] + offset[c]
  const scale = std.map((s) => 1 / (255 * s));
  const offset = mean.map((m, c) => -m / std[c]);
  crops.forEach((crop, n) => {
    if (crop.size !== size || crop.rgb.length !== plane * 3) {
      throw new RangeError(
        `crop of frame ${crop.frameIndex} is ${crop.size}px (${crop.rgb.length} bytes); expected ${size}px (${plane * 3} bytes)`,
      );
    }
    const base = n * 3 * plane;
    for (let c = 0; c < 3; c++) {
      const dst = base + c * plane;
      const k = scale[c];
      const b = offset[c];
      for (let i = 0; i < plane; i++) out[dst + i] = crop.rgb[i * 3 + c] * k + b;
    }
  });
  return out;
}

/**
 * Returns `crop` unchanged if it is already `size` px, else a copy whose `rgb` is resized to
 * `size` x `size` with sharp (its default Lanczos-3 kernel) and whose keypoints are rescaled.
 * The crop stage should normally produce crops at the model's size so this step is skipped.
 */
export async function fitCropToSize(crop: FaceCrop, size: number): Promise<FaceCrop> {
  if (crop.size === size) return crop;
  const rgb = await sharp(crop.rgb, { raw: { width: crop.size, height: crop.size, channels: 3 } })
    .resize(size, size, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
  const f = size / crop.size;
  const keypoints = crop.keypoints.map(([x, y]) => [x * f, y * f]) as unknown as FaceCrop['keypoints'];
  return { ...crop, size, rgb, keypoints };
}
