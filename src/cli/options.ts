/** Parsers for CLI option values, shared by the commands; each throws InvalidOptionError with the flag named. */
import { InvalidOptionError } from '../util/errors.js';
import { CropPolicySchema, type CropPolicy } from '../models/manifest.js';
import { STRATEGY_NAMES, type StrategyName } from '../aggregate/strategies.js';
import { parseSampling, type SamplingPolicy } from '../media/sampling.js';

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
