/** Parsers for CLI option values, shared by the commands; each throws InvalidOptionError with the flag named. */
import { InvalidOptionError } from '../util/errors.js';
import { CropPolicySchema, type CropPolicy } from '../models/manifest.js';
import { STRATEGY_NAMES, type StrategyName } from '../aggregate/strategies.js';
import { parseSampling, type SamplingPolicy } from '../media/sampling.js';
import { DEFAULT_FACE_DETECTOR_OPTIONS as DETECTOR, type FaceDetectorOptions } from '../faces/face_detector_options.js';
import type { Command } from 'commander';

export function intOption(flag: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidOptionError(`${flag} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

export function floatOption(flag: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidOptionError(`${flag} must be a number in [${min}, ${max}], got '${v}'`);
    return n;
  };
}

export function cropPolicyOption(v: string): CropPolicy {
  const r = CropPolicySchema.safeParse(v);
  if (!r.success) throw new InvalidOptionError(`--crop must be one of scale, margin, align; got '${v}'`);
  return r.data;
}

export function rescaleOption(v: string): 'auto' | number {
  if (v === 'auto') return 'auto';
  return floatOption('--rescale', 0.05, 4)(v);
}

export function passesOption(v: string): 'fast' | 'thorough' {
  if (v !== 'fast' && v !== 'thorough') throw new InvalidOptionError(`--passes must be fast or thorough, got '${v}'`);
  return v;
}

/** A commander parser accepting one of `values` for `flag`. */
export function choice<T extends string>(flag: string, values: readonly T[]) {
  return (v: string): T => {
    if (!(values as readonly string[]).includes(v)) throw new InvalidOptionError(`${flag} must be one of ${values.join(', ')}; got '${v}'`);
    return v as T;
  };
}

export function strategyOption(v: string): StrategyName {
  if (!(STRATEGY_NAMES as string[]).includes(v)) throw new InvalidOptionError(`--strategy must be one of ${STRATEGY_NAMES.join(', ')}; got '${v}'`);
  return v as StrategyName;
}

export function samplingOption(v: string): SamplingPolicy {
  return parseSampling(v);
}

/** The face detector's flags as commander parses them (see {@link addDetectorOptions}). */
export interface DetectorCliOptions {
  minScore: number;
  maxFaces: number;
  minFace: number;
  rescale: 'auto' | number;
  passes: 'fast' | 'thorough';
}

/** Adds the face detector's flags, shared by scan, eval and extract, with the detector's defaults. */
export function addDetectorOptions(command: Command): Command {
  return command
    .option('--min-score <p>', 'face detector confidence threshold', floatOption('--min-score', 0, 1), DETECTOR.minScore)
    .option('--max-faces <n>', 'most faces per frame', intOption('--max-faces'), DETECTOR.maxFaces)
    .option('--min-face <px>', 'smallest face judged, as its box side in frame pixels (smaller faces score as fakes for lack of detail)', intOption('--min-face'), DETECTOR.minFaceSize)
    .option('--rescale <r>', "detector input rescale: 'auto' (by resolution) or a factor", rescaleOption, DETECTOR.rescale)
    .option('--passes <mode>', 'detector views of wide frames: fast (whole frame; tiles only if no face) | thorough (always tiles too)', passesOption, DETECTOR.passes);
}

/** The detector options those flags give. */
export function detectorOptionsFrom(o: DetectorCliOptions): Partial<FaceDetectorOptions> {
  return { minScore: o.minScore, maxFaces: o.maxFaces, minFaceSize: o.minFace, rescale: o.rescale, passes: o.passes };
}
