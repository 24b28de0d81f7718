/**
 * `extract`: face crops plus one JSON record per input, the training data format
 * (schema `unmask.extract/1`, read by training/unmask_train/data.py). Resumable: an input whose
 * record exists with status ok/no_face is skipped. Inputs run concurrently.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { BlazeFaceDetector } from '../faces/blazeface.js';
import type { FaceDetectorOptions } from '../faces/face_detector_options.js';
import { type DisplayStep, displaySteps } from '../media/display_chain.js';
import type { Keypoints } from '../types.js';
import { UnmaskError } from '../util/errors.js';
import { type FaceAnalysisOptions, analyzeFaces, DEFAULT_FACE_ANALYSIS_OPTIONS } from './face_analysis.js';
import type { MediaInput } from './inputs.js';

export const EXTRACT_SCHEMA = 'unmask.extract/1';

export interface ExtractOptions extends FaceAnalysisOptions {
  outDir: string;
  /** Image format of the crops. Default png (lossless, so training sees what scan sees). */
  format: 'png' | 'jpg';
  /** Inputs processed at once. Default 2. */
  concurrency: number;
  detector: Partial<FaceDetectorOptions>;
  /** Re-extract inputs that already have a record. Default false. */
  force: boolean;
}

export const DEFAULT_EXTRACT_OPTIONS: Omit<ExtractOptions, 'outDir'> = {
  ...DEFAULT_FACE_ANALYSIS_OPTIONS,
  format: 'png',
  concurrency: 2,
  detector: {},
  force: false,
};

export interface ExtractFaceRecord {
  file: string;
  frameIndex: number;
  timeMs: number;
  trackId: number;
  score: number;
  box: { x: number; y: number; width: number; height: number };
  keypoints: Keypoints;
  cropKeypoints: Keypoints;
}

export interface ExtractRecord {
  schema: typeof EXTRACT_SCHEMA;
  key: string;
  source: string;
  [meta: string]: unknown;
  /** `display`: what decoding did as a player does (display_chain.ts); absent in records of earlier versions. */
  media?: { kind: string; width: number; height: number; fps: number; frameCount: number; display?: DisplayStep[] };
  crop: { policy: string; margin: number; size: number };
  sampling: unknown;
  status: 'ok' | 'no_face' | 'error';
  error?: string;
  errorCode?: string;
  framesDecoded?: number[];
  tracks?: unknown[];
  warnings?: string[];
  faces: ExtractFaceRecord[];
}

export type ExtractOutcome = { key: string; status: ExtractRecord['status'] | 'skipped'; faces: number; error?: string };

const round2 = (v: number) => Math.round(v * 100) / 100;
const roundPoints = (k: Keypoints) => k.map(([x, y]) => [round2(x), round2(y)]) as Keypoints;

async function existingStatus(path: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as ExtractRecord).status;
  } catch {
    return undefined;
  }
}

/** Writes JSON atomically so an interrupted run never leaves a half record that looks finished. */
async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(value));
  await rename(`${path}.tmp`, path);
}

export async function extractOne(input: MediaInput, detector: BlazeFaceDetector, opt: ExtractOptions): Promise<ExtractOutcome> {
  const recordPath = join(opt.outDir, `${input.key}.json`);
  if (!opt.force) {
    const st = await existingStatus(recordPath);
    if (st === 'ok' || st === 'no_face') return { key: input.key, status: 'skipped', faces: 0 };
  }
  const base = {
    schema: EXTRACT_SCHEMA,
    key: input.key,
    source: input.path,
    ...(input.meta ?? {}),
    crop: { policy: opt.crop.policy, margin: opt.crop.margin, size: opt.crop.size },
    sampling: opt.sampling,
  } as const;
  try {
    const a = await analyzeFaces(input.path, detector, opt);
    const dir = join(opt.outDir, input.key);
    if (a.crops.length) await mkdir(dir, { recursive: true });
    const faces: ExtractFaceRecord[] = [];
    for (const c of a.crops) {
      const name = `f${String(c.frameIndex).padStart(6, '0')}_t${c.trackId}.${opt.format}`;
      const img = sharp(c.rgb, { raw: { width: c.size, height: c.size, channels: 3 } });
      await (opt.format === 'png' ? img.png({ compressionLevel: 6 }) : img.jpeg({ quality: 95 })).toFile(join(dir, name));
      const b = c.detection.box;
      faces.push({
        file: `${input.key}/${name}`,
        frameIndex: c.frameIndex,
        timeMs: Math.round(c.timeMs),
        trackId: c.trackId,
        score: round2(c.detection.score),
        box: { x: round2(b.x), y: round2(b.y), width: round2(b.width), height: round2(b.height) },
        keypoints: roundPoints(c.detection.keypoints),
        cropKeypoints: roundPoints(c.keypoints),
      });
    }
    const { info } = a;
    const record: ExtractRecord = {
      ...base,
      media: { kind: info.kind, width: info.width, height: info.height, fps: info.fps, frameCount: info.frameCount, display: displaySteps(info) },
      status: faces.length ? 'ok' : 'no_face',
      framesDecoded: a.framesDecoded,
      tracks: a.tracks,
      warnings: a.warnings,
      faces,
    };
    await writeJsonAtomic(recordPath, record);
    return { key: input.key, status: record.status, faces: faces.length };
  } catch (e) {
    if (!(e instanceof UnmaskError)) throw e;
    await writeJsonAtomic(recordPath, { ...base, status: 'error', error: e.message, errorCode: e.code, faces: [] });
    return { key: input.key, status: 'error', faces: 0, error: e.message };
  }
}

/** Extracts every input; `onDone` is called after each (for progress bars). */
export async function extractAll(
  inputs: MediaInput[],
  options: Partial<ExtractOptions> & { outDir: string },
  onDone: (o: ExtractOutcome) => void = () => {},
): Promise<ExtractOutcome[]> {
  const opt: ExtractOptions = { ...DEFAULT_EXTRACT_OPTIONS, ...options };
  await mkdir(opt.outDir, { recursive: true });
  const detector = await BlazeFaceDetector.load(opt.detector);
  try {
    const limit = pLimit(opt.concurrency);
    return await Promise.all(
      inputs.map((inp) =>
        limit(async () => {
          const o = await extractOne(inp, detector, opt);
          onDone(o);
          return o;
        }),
      ),
    );
  } finally {
    await detector.dispose();
  }
}
