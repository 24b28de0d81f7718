/**
 * A realistic `unmask.eval/1` results object for report tests: synthetic scan results for a small
 * index (two data sets, several methods and compressions, two models scoring every face, one video
 * that failed to scan) go through the real `evaluate()` (real strategies, metrics and bootstrap), then
 * the worst videos get face thumbnails and the whole is validated by the real schema.
 */
import sharp from 'sharp';
import { sigmoid } from '../../src/aggregate/prob.js';
import { seededRandom } from '../../src/eval/bootstrap.js';
import { parseEvalResults, type EvalResults, type ModelEntry } from '../../src/eval/eval_results.js';
import { evaluate, type EvalInput } from '../../src/eval/evaluate.js';
import { SCAN_SCHEMA, type ScanResult } from '../../src/pipeline/scan_result.js';

export interface EvalFixtureOptions {
  /** Videos in the index (one more fails to scan). Default 60. */
  videos?: number;
  /** Scored face frames per video. Default 8. */
  framesPerVideo?: number;
  seed?: number;
  /** Wrongest videos listed per model. Default 4. */
  worstPerModel?: number;
}

const BAND = { realBelow: 0.35, fakeAbove: 0.65 };
/** Model "sbi" separates the classes well, "meso" less. */
const SEPARATION = { sbi: 2.2, meso: 1.0 };

/** Gaussian by Box-Muller from the seeded uniform generator. */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12), v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function scanOf(path: string, frameProbs: number[][], ok = true): ScanResult {
  const timings = { probeMs: 1, decodeWaitMs: 1, detectMs: 1, cropMs: 1, trackMs: 1, classifyMs: 1, totalMs: 6 };
  const base = {
    schema: SCAN_SCHEMA as typeof SCAN_SCHEMA, file: path, strategy: 'mean-logit' as const, band: BAND,
    models: Object.keys(SEPARATION).map((name) => ({ name, version: '1' })), warnings: [], timings,
  };
  if (!ok) {
    return { ...base, status: 'error', verdict: null, probability: null, media: null, framesSampled: 0, framesDecoded: 0, tracks: [], frames: [],
      error: { code: 'UNREADABLE_MEDIA', message: `not a readable video or image: ${path}` } };
  }
  const frames = frameProbs.map((modelProbabilities, i) => ({
    frameIndex: i * 10, timeMs: i * 400, trackId: 0,
    probability: modelProbabilities.reduce((s, p) => s + p, 0) / modelProbabilities.length,
    modelProbabilities, box: { x: 100, y: 80, width: 120, height: 140 }, detectorScore: 0.9,
  }));
  return {
    ...base, status: 'ok', verdict: 'UNCERTAIN', probability: 0.5,
    media: { kind: 'video', width: 640, height: 360, fps: 25, frameCount: frames.length * 10, durationMs: frames.length * 400, display: [] },
    framesSampled: frames.length, framesDecoded: frames.length,
    tracks: [{ trackId: 0, frames: frames.length, firstFrame: 0, lastFrame: (frames.length - 1) * 10, probability: 0.5 }],
    frames,
  };
}

function synthesize(o: Required<EvalFixtureOptions>): EvalInput[] {
  const rand = seededRandom(o.seed);
  const fakeMethods = ['Deepfakes', 'FaceSwap', 'NeuralTextures'];
  const inputs: EvalInput[] = Array.from({ length: o.videos }, (_, i) => {
    const dataset = i % 3 === 0 ? 'dfdc' : 'ffpp';
    const fake = i % 2 === 1;
    const method = !fake ? 'original' : dataset === 'dfdc' ? 'unknown' : fakeMethods[i % fakeMethods.length];
    const compression = dataset === 'dfdc' ? '' : i % 4 < 2 ? 'c23' : 'c40';
    // NeuralTextures is the hard method for both models
    const hard = method === 'NeuralTextures' ? 0.4 : 1;
    const centres = Object.values(SEPARATION).map((sep) => (fake ? sep * hard : -sep) * 0.5 + gaussian(rand) * 0.9);
    const frameProbs = Array.from({ length: o.framesPerVideo }, () => centres.map((c) => sigmoid(c + gaussian(rand) * 0.8)));
    const path = `/data/${dataset}/${fake ? 'fake' : 'real'}/${method}_${String(i).padStart(3, '0')}.mp4`;
    return { row: { path, label: fake ? 'FAKE' : 'REAL', dataset, split: 'val', method, compression }, result: scanOf(path, frameProbs) };
  });
  const broken = '/data/ffpp/real/broken.mp4';
  inputs.push({ row: { path: broken, label: 'REAL', dataset: 'ffpp', split: 'val', method: 'original', compression: 'c23' }, result: scanOf(broken, [], false) });
  return inputs;
}

/** A small JPEG data URL standing in for a face crop. */
export async function thumbnail(seed: number): Promise<string> {
  const size = 48;
  const rgb = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) rgb.set([(i * 7 + seed * 40) % 256, (i >> 3) % 256, (seed * 90) % 256], i * 3);
  const jpg = await sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
  return `data:image/jpeg;base64,${jpg.toString('base64')}`;
}

/** A valid EvalResults (checked by the real schema). */
export async function makeEvalResults(options: EvalFixtureOptions = {}): Promise<EvalResults> {
  const o: Required<EvalFixtureOptions> = { videos: 60, framesPerVideo: 8, seed: 7, worstPerModel: 4, ...options };
  const models: ModelEntry[] = Object.keys(SEPARATION).map((key) => ({ key, name: key, version: '1', manifest: `/models/${key}.manifest.json`, band: BAND }));
  const results = evaluate(synthesize(o), {
    index: '/data/index.csv',
    filter: { split: 'val' },
    models,
    strategy: 'mean-logit',
    resamples: 200,
    worst: o.worstPerModel,
    timings: { seconds: 12.5, scanned: o.videos + 1, cached: 0 },
    createdAt: '2026-01-02T03:04:05.000Z',
  });
  for (const [i, w] of results.worst.entries()) w.thumbnail = await thumbnail(i % o.worstPerModel);
  return parseEvalResults(JSON.parse(JSON.stringify(results)), 'fixture');
}
