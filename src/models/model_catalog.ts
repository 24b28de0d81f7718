/**
 * What the shipped models are (`unmask models`): one summary per manifest or ensemble manifest in
 * the models folder, read from the files themselves. A file that does not validate is listed with
 * its error rather than hiding the others.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { readEnsemble, UNWEIGHTED } from './ensemble_manifest.js';
import { loadManifest } from './manifest.js';
import { listShippedModels, readDefaultModelName, shippedModelsDir } from './registry.js';

export interface ModelSummary {
  name: string;
  /** True for the model `unmask scan` uses without `--model`. */
  isDefault: boolean;
  kind: 'frame' | 'clip' | 'ensemble';
  manifestPath: string;
  /** Ensembles: member model names (manifest file names without `.manifest.json`), in order. */
  members?: string[];
  /** Stacked ensembles: each member's weight (see ensemble_manifest.ts), in order. */
  weights?: number[];
  /** Single models: architecture, input side in pixels, ONNX size in bytes. */
  arch?: string;
  inputSize?: number;
  onnxBytes?: number;
  /** Why the manifest could not be read (the other fields are then partial). */
  error?: string;
}

/** Summaries of the models in `modelsDir` (default: the package's `models/`), sorted by name. */
export async function describeShippedModels(modelsDir: string = shippedModelsDir()): Promise<ModelSummary[]> {
  let defaultName: string | null = null;
  try {
    defaultName = readDefaultModelName(modelsDir);
  } catch {
    // a malformed default.json: no entry is marked default (`unmask scan` reports the error itself)
  }
  const out: ModelSummary[] = [];
  for (const m of await listShippedModels(modelsDir)) {
    const base = { name: m.name, isDefault: m.name === defaultName, manifestPath: m.manifestPath };
    try {
      if (m.ensemble) {
        const e = await readEnsemble(m.manifestPath);
        const members = e.members.map((p) => basename(p).replace(/\.manifest\.json$/, ''));
        const stacked = e.weighting.some((w) => w.weight !== UNWEIGHTED.weight || w.bias !== UNWEIGHTED.bias);
        out.push({ ...base, kind: 'ensemble', members, ...(stacked ? { weights: e.weighting.map((w) => w.weight) } : {}) });
      } else {
        const { manifest, onnxPath } = await loadManifest(m.manifestPath);
        const onnxBytes = await stat(onnxPath).then((s) => s.size, () => undefined);
        out.push({ ...base, kind: manifest.kind, arch: manifest.training.arch, inputSize: manifest.input.size, onnxBytes, ...(onnxBytes === undefined ? { error: `ONNX file missing: ${onnxPath}` } : {}) });
      }
    } catch (e) {
      out.push({ ...base, kind: m.ensemble ? 'ensemble' : 'frame', error: (e as Error).message.split('\n')[0] });
    }
  }
  return out;
}
