/** Writes a copy of a model manifest with a newly fitted temperature (and decision band). */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseManifest } from '../models/manifest.js';
import { InvalidManifestError } from '../util/errors.js';
import type { CalibrationFit } from './calibrate_models.js';

/**
 * Copies the manifest at `manifestPath` to `<outDir>/<name>.json` with `calibration.temperature`
 * and `decision` from `fit`, `file` re-pointed at the same ONNX file (see {@link onnxReference}),
 * and a line appended to `training.notes` saying how the temperature was fitted. Every other field
 * is kept as it was. Returns the copy's path.
 */
export async function writeCalibratedManifest(manifestPath: string, fit: CalibrationFit, outDir: string, how: string): Promise<string> {
  const src = resolve(manifestPath);
  let json: Record<string, any>;
  try {
    json = JSON.parse(await readFile(src, 'utf8'));
  } catch {
    throw new InvalidManifestError(`cannot read ${manifestPath}`);
  }
  const manifest = parseManifest(json, manifestPath);
  const onnx = resolve(dirname(src), manifest.file);
  const out = join(resolve(outDir), `${manifest.name}.json`);
  const copy = {
    ...json,
    file: onnxReference(dirname(out), onnx),
    calibration: { ...json.calibration, temperature: fit.temperature },
    decision: { realBelow: fit.band.realBelow, fakeAbove: fit.band.fakeAbove },
    training: {
      ...json.training,
      notes: [json.training?.notes, `Recalibrated by unmask eval: ${how}.`].filter(Boolean).join(' '),
    },
  };
  parseManifest(copy, out); // never write a manifest the scanner would reject
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(copy, null, 2)}\n`);
  return out;
}

/**
 * How the copy in `dir` names the ONNX file: relative when both share a top-level folder (so a
 * project folder moved as a whole keeps working), else absolute (a path up through `/` is fragile).
 */
export function onnxReference(dir: string, onnx: string): string {
  const top = (p: string) => resolve(p).split(sep)[1];
  const rel = relative(dir, onnx);
  return top(dir) === top(onnx) && !isAbsolute(rel) ? rel : resolve(onnx);
}
