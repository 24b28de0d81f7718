/**
 * Explanation maps as pictures: each map (Grad-CAM or attention, see FrameClassifier.explain) is
 * upsampled bilinearly to the face crop, coloured with a jet colour map and blended over the crop,
 * then written as a PNG of the crop's size.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import type { ExplanationMap } from '../models/frame_classifier.js';
import type { FaceCrop } from '../types.js';

export interface ExplainRenderOptions {
  /** Weight of the heat map over the crop, in [0, 1]. Default 0.45. */
  alpha: number;
}

export const DEFAULT_EXPLAIN_RENDER_OPTIONS: ExplainRenderOptions = { alpha: 0.45 };

/**
 * Map values in [0, 1]: attention maps are probabilities already (kept as they are, so a weak gate
 * looks weak); Grad-CAM has no absolute scale and is divided by its maximum (all zero stays zero:
 * no positive evidence anywhere).
 */
export function normaliseMap(map: ExplanationMap): Float32Array {
  if (map.method === 'attention') return map.values.map((v) => Math.min(1, Math.max(0, v)));
  let max = 0;
  for (const v of map.values) if (v > max) max = v;
  return max > 0 ? map.values.map((v) => Math.max(0, v) / max) : new Float32Array(map.values.length);
}

/**
 * Bilinear upsampling of a `w` x `h` map to `size` x `size`, with pixel centres aligned as
 * PyTorch's `align_corners=False` (the map covers the crop edge to edge).
 */
export function upsampleBilinear(values: Float32Array, w: number, h: number, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const sample = (n: number, i: number) => {
    const s = Math.min(n - 1, Math.max(0, ((i + 0.5) * n) / size - 0.5));
    const i0 = Math.floor(s);
    return { i0, i1: Math.min(n - 1, i0 + 1), f: s - i0 };
  };
  for (let y = 0; y < size; y++) {
    const { i0: y0, i1: y1, f: fy } = sample(h, y);
    for (let x = 0; x < size; x++) {
      const { i0: x0, i1: x1, f: fx } = sample(w, x);
      const top = values[y0 * w + x0] * (1 - fx) + values[y0 * w + x1] * fx;
      const bottom = values[y1 * w + x0] * (1 - fx) + values[y1 * w + x1] * fx;
      out[y * size + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** The classic jet colour map: 0 dark blue -> cyan -> yellow -> 1 dark red. */
export function jet(v: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  const t = Math.min(1, Math.max(0, v));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** RGB pixels (crop size) of the map blended over the crop. */
export function blendMap(crop: FaceCrop, map: ExplanationMap, options: Partial<ExplainRenderOptions> = {}): Buffer {
  const { alpha } = { ...DEFAULT_EXPLAIN_RENDER_OPTIONS, ...options };
  const heat = upsampleBilinear(normaliseMap(map), map.width, map.height, crop.size);
  const out = Buffer.alloc(crop.size * crop.size * 3);
  for (let i = 0; i < heat.length; i++) {
    const [r, g, b] = jet(heat[i]);
    out[3 * i] = Math.round((1 - alpha) * crop.rgb[3 * i] + alpha * r);
    out[3 * i + 1] = Math.round((1 - alpha) * crop.rgb[3 * i + 1] + alpha * g);
    out[3 * i + 2] = Math.round((1 - alpha) * crop.rgb[3 * i + 2] + alpha * b);
  }
  return out;
}

/** File name of a crop's map: frame index and track, as `unmask extract` names crops. */
export function explainFileName(crop: Pick<FaceCrop, 'frameIndex' | 'trackId'>): string {
  return `f${String(crop.frameIndex).padStart(6, '0')}_t${crop.trackId}.png`;
}

/** One written map, for the index file and the caller. */
export interface WrittenMap {
  file: string;
  frameIndex: number;
  trackId: number;
  /** Raw logit of the model for this crop (not calibrated). */
  logit: number;
}

/**
 * Writes one PNG per crop into `dir` (created if needed) plus `maps.json` listing them, and
 * returns what it wrote. `maps[i]` and `logits[i]` belong to `crops[i]`.
 */
export async function writeExplanationMaps(
  dir: string,
  crops: readonly FaceCrop[],
  maps: readonly ExplanationMap[],
  logits: Float32Array,
  options: Partial<ExplainRenderOptions> = {},
): Promise<WrittenMap[]> {
  if (maps.length !== crops.length || logits.length !== crops.length) {
    throw new RangeError(`${crops.length} crops but ${maps.length} maps and ${logits.length} logits`);
  }
  await mkdir(dir, { recursive: true });
  const written: WrittenMap[] = [];
  for (let i = 0; i < crops.length; i++) {
    const c = crops[i];
    const file = join(dir, explainFileName(c));
    const rgb = blendMap(c, maps[i], options);
    await sharp(rgb, { raw: { width: c.size, height: c.size, channels: 3 } }).png().toFile(file);
    written.push({ file, frameIndex: c.frameIndex, trackId: c.trackId, logit: logits[i] });
  }
  const method = maps[0]?.method ?? null;
  const index = written.map((w) => ({ ...w, file: basename(w.file) }));
  await writeFile(join(dir, 'maps.json'), `${JSON.stringify({ method, maps: index }, null, 2)}\n`);
  return written;
}
