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
 * `(v / 255 - mean[c]) / std[c]`, written into `into` when given. No I/O; the crops are not modified.
 *
 * @throws RangeError if a crop's `size` differs from `size` or its `rgb` has the wrong length,
 *   or if a `std` component is zero.
 */
export function cropsToTensor(crops: readonly FaceCrop[], size: number, mean: Rgb, std: Rgb, into?: Float32Array): Float32Array {
  if (std.some((s) => s === 0)) throw new RangeError('std components must be non-zero');
  const plane = size * size;
  if (into && into.length !== crops.length * 3 * plane) throw new RangeError(`tensor buffer holds ${into.length} values; expected ${crops.length * 3 * plane}`);
  // `into`: a caller's reusable buffer (allocating megabytes per batch costs page faults), fully overwritten
  const out = into ?? new Float32Array(crops.length * 3 * plane);
  // (v / 255 - m) / s == v * scale[c] + offset[c]
  const scale = std.map((s) => 1 / (255 * s));
  const offset = mean.map((m, c) => -m / std[c]);
  crops.forEach((crop, n) => {
    if (crop.size !== size || crop.rgb.length !== plane * 3) {
      throw new RangeError(
        `crop of frame ${crop.frameIndex} is ${crop.size}px (${crop.rgb.length} bytes); expected ${size}px (${plane * 3} bytes)`,
      );
    }
    // one pass over the packed pixels, writing the three planes
    const r = n * 3 * plane, g = r + plane, b = g + plane;
    const [k0, k1, k2] = scale, [b0, b1, b2] = offset;
    const rgb = crop.rgb;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      out[r + i] = rgb[p] * k0 + b0;
      out[g + i] = rgb[p + 1] * k1 + b1;
      out[b + i] = rgb[p + 2] * k2 + b2;
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
