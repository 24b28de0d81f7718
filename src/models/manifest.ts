/**
 * Model manifest: the JSON file that ships beside every ONNX model. It is the contract between
 * training (Python, writes it) and inference (TypeScript, reads and validates it).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidManifestError } from '../util/errors.js';

export const CropPolicySchema = z.enum(['scale', 'margin', 'align']);
export type CropPolicy = z.infer<typeof CropPolicySchema>;

export const ModelManifestSchema = z.object({
  /** Stable model name, e.g. `unmask-sbi-small`. */
  name: z.string().min(1),
  version: z.string().min(1),
  /** `frame`: one face crop in, one logit out. `clip`: a stack of consecutive crops of one track. */
  kind: z.enum(['frame', 'clip']),
  /** Path of the ONNX file, relative to the manifest. */
  file: z.string().min(1),
  input: z.object({
    /** Square side in pixels that the model takes. */
    size: z.number().int().positive(),
    /** Tensor layout; `NCHW` for frame models, `NCTHW` for clip models. */
    layout: z.enum(['NCHW', 'NCTHW']),
    /** Pixel value = (rgb / 255 - mean) / std, per channel, RGB order. */
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
    /** Frames per clip, for clip models. */
    clipLength: z.number().int().positive().optional(),
    /** Clip models: stride of the sliding windows over a track (default clipLength / 2, at least 1). */
    clipStride: z.number().int().positive().optional(),
    /** Clip models: a track is cut where it misses more than this many sampled frames (default 0). */
    clipMaxGap: z.number().int().min(0).optional(),
    /** Frames the model wants to see, as a `--sample` policy (e.g. `clip:64`); scan uses it unless told otherwise. */
    sampling: z.string().min(1).optional(),
  }),
  crop: z.object({
    policy: CropPolicySchema,
    /** Extra border per side as a fraction of the box side (margin policy). */
    margin: z.number().min(0).max(2).optional(),
    /**
     * Side the training crops were cut at (by `unmask extract`) before training resized them to
     * `input.size`. A scan cuts at `input.size` directly, or for a small input side at this side and
     * resizes, as training did (cropSideFor in scanner.ts). Default 256.
     */
    size: z.number().int().positive().optional(),
  }),
  output: z.object({
    /** The (first) output is a logit; sigmoid(logit / temperature) = probability the face is FAKE. */
    meaning: z.literal('logit_fake'),
    /**
     * Optional second ONNX output: a map [N, 1, h, w] over the input crop telling where the evidence
     * is (`unmask scan --explain`). `grad-cam`: Grad-CAM of the logit (>= 0, in-graph, see
     * training/unmask_train/explain.py); `attention`: the model's own attention map in [0, 1].
     */
    explanation: z
      .object({ output: z.string().min(1), method: z.enum(['grad-cam', 'attention']) })
      .optional(),
  }),
  calibration: z.object({
    /** Temperature fitted on validation data; 1 means uncalibrated. */
    temperature: z.number().positive(),
  }),
  /** Probability band: below `realBelow` is REAL, at or above `fakeAbove` is FAKE, between is UNCERTAIN. */
  decision: z
    .object({ realBelow: z.number().min(0).max(1), fakeAbove: z.number().min(0).max(1) })
    .refine((d) => d.realBelow <= d.fakeAbove, 'decision.realBelow must be <= decision.fakeAbove'),
  training: z.object({
    data: z.array(z.string()),
    command: z.string(),
    seed: z.number().int().optional(),
    epochs: z.number().optional(),
    arch: z.string(),
    notes: z.string().optional(),
  }),
  /** Validation metrics measured by the training run that produced this file. */
  metrics: z.record(z.string(), z.number().nullable()).default({}),
  createdAt: z.string().optional(),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

/** Probability band of a model (or ensemble): `[realBelow, fakeAbove)` is UNCERTAIN. */
export type DecisionBand = ModelManifest['decision'];

/** A validated manifest plus the absolute path of its ONNX file. */
export interface LoadedManifest {
  manifest: ModelManifest;
  manifestPath: string;
  onnxPath: string;
}

export function parseManifest(json: unknown, where: string): ModelManifest {
  const r = ModelManifestSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new InvalidManifestError(`${where}: ${first?.path.join('.') || '(root)'}: ${first?.message}`);
  }
  return r.data;
}

export async function loadManifest(manifestPath: string): Promise<LoadedManifest> {
  const abs = resolve(manifestPath);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch {
    throw new InvalidManifestError(`cannot read model manifest ${manifestPath}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidManifestError(`${manifestPath} is not valid JSON`);
  }
  const manifest = parseManifest(json, manifestPath);
  return { manifest, manifestPath: abs, onnxPath: resolve(dirname(abs), manifest.file) };
}
