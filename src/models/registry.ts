/**
 * Shipped-model registry: finds the models bundled with the package (`<package root>/models/
 * <name>.manifest.json`, and ensembles of them as `<name>.ensemble.json`; the default is named in
 * `models/default.json` as `{"model": "<name>"}`) and turns a user's model argument (a shipped name
 * or a manifest path) into a manifest path.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InputNotFoundError, UnmaskError } from '../util/errors.js';
import { expandEnsembleManifestsNamed, type ExpandedModel } from './ensemble_manifest.js';
import { isFile } from './files.js';

/** File-name suffix of a shipped manifest: `<name>.manifest.json`. */
export const MANIFEST_SUFFIX = '.manifest.json';
/** File-name suffix of a shipped ensemble manifest (`unmask.ensemble/1`): `<name>.ensemble.json`. */
export const ENSEMBLE_SUFFIX = '.ensemble.json';
const SUFFIXES = [MANIFEST_SUFFIX, ENSEMBLE_SUFFIX];
const PACKAGE_NAME = 'unmask';
const DEFAULT_FILE = 'default.json';
const DefaultFileSchema = z.object({ model: z.string().min(1) });

/** A model bundled with the package. */
export interface ShippedModel {
  /** The manifest's file name without `.manifest.json` / `.ensemble.json`. */
  name: string;
  /** Absolute path of the manifest. */
  manifestPath: string;
  /** True for an ensemble manifest (several models scored together). */
  ensemble: boolean;
}

let cachedRoot: string | undefined;

/**
 * The package root: the nearest folder, walking up from this module, holding a package.json whose
 * `name` is `unmask`. Works from `src/` (ts-node style) and from `dist/src/`.
 *
 * @throws UnmaskError `NO_PACKAGE_ROOT` if there is none (a broken installation).
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (readPackageName(join(dir, 'package.json')) === PACKAGE_NAME) return (cachedRoot = dir);
    if (dirname(dir) === dir) break;
  }
  throw new UnmaskError('NO_PACKAGE_ROOT', `cannot find the ${PACKAGE_NAME} package root above ${fileURLToPath(import.meta.url)}`);
}

/** `<package root>/models`, where shipped manifests and ONNX files live. */
export function shippedModelsDir(): string {
  return join(packageRoot(), 'models');
}

/** Shipped models in `modelsDir` (default: {@link shippedModelsDir}), sorted by name; [] if the folder is absent. */
export async function listShippedModels(modelsDir: string = shippedModelsDir()): Promise<ShippedModel[]> {
  let files: string[];
  try {
    files = await readdir(modelsDir);
  } catch {
    return [];
  }
  const models: ShippedModel[] = [];
  for (const f of files) {
    const suffix = SUFFIXES.find((s) => f.endsWith(s) && f.length > s.length);
    if (suffix) models.push({ name: f.slice(0, -suffix.length), manifestPath: join(modelsDir, f), ensemble: suffix === ENSEMBLE_SUFFIX });
  }
  return models.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : Number(a.ensemble) - Number(b.ensemble)));
}

/**
 * The default model name from `<modelsDir>/default.json`, or null if that file does not exist.
 *
 * @throws UnmaskError `BAD_DEFAULT_MODEL` if the file exists but is not `{"model": "<name>"}`.
 */
export function readDefaultModelName(modelsDir: string = shippedModelsDir()): string | null {
  const path = join(modelsDir, DEFAULT_FILE);
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    json = undefined;
  }
  const parsed = DefaultFileSchema.safeParse(json);
  if (!parsed.success) throw new UnmaskError('BAD_DEFAULT_MODEL', `${path} must be {"model": "<name>"}`);
  return parsed.data.model;
}

/**
 * Name of the default shipped model, read once from `models/default.json` when this module loads;
 * null if there is none (or the file is broken: {@link resolveModel} then reports why).
 */
export const DEFAULT_MODEL_NAME: string | null = (() => {
  try {
    return readDefaultModelName();
  } catch {
    return null;
  }
})();

/**
 * Resolves a model argument to the absolute path of a manifest.
 *
 * - omitted: the default shipped model (`models/default.json`);
 * - containing a path separator or ending in `.json`: a manifest path, relative to the cwd;
 * - otherwise: the name of a shipped model (`models/<name>.manifest.json`, or `<name>.ensemble.json`).
 *
 * The manifest itself is not read here; {@link FrameClassifier.load} validates it.
 *
 * @param modelsDir where shipped models are looked up (default: {@link shippedModelsDir}).
 * @throws UnmaskError `NO_MODEL` if no default is set or the default's manifest is missing,
 *   `UNKNOWN_MODEL` for a name that is not shipped, `BAD_DEFAULT_MODEL` for a malformed default.json.
 * @throws InputNotFoundError for a manifest path that does not exist.
 */
export async function resolveModel(nameOrPath?: string, modelsDir: string = shippedModelsDir()): Promise<string> {
  if (nameOrPath === undefined) {
    const name = readDefaultModelName(modelsDir);
    if (name === null) {
      throw new UnmaskError(
        'NO_MODEL',
        `no default model is installed (${join(modelsDir, DEFAULT_FILE)} is missing); pass the path of a model manifest`,
      );
    }
    const found = (await listShippedModels(modelsDir)).find((m) => m.name === name);
    if (!found) {
      const path = join(modelsDir, name + MANIFEST_SUFFIX);
      throw new UnmaskError('NO_MODEL', `the default model "${name}" is not installed: ${path} (or ${name}${ENSEMBLE_SUFFIX}) is missing`);
    }
    return found.manifestPath;
  }
  if (looksLikePath(nameOrPath)) {
    const path = resolve(nameOrPath);
    if (!(await isFile(path))) throw new InputNotFoundError(nameOrPath);
    return path;
  }
  const models = await listShippedModels(modelsDir);
  const found = models.find((m) => m.name === nameOrPath);
  if (found) return found.manifestPath;
  const known = models.length ? `shipped models: ${models.map((m) => m.name).join(', ')}` : 'no models are shipped';
  throw new UnmaskError('UNKNOWN_MODEL', `unknown model "${nameOrPath}" (${known}); or pass the path of a model manifest`);
}

/**
 * {@link resolveModel} for every argument (none: the default model), with ensemble manifests
 * (`unmask.ensemble/1`, see ensemble_manifest.ts) replaced by their member manifests, in order.
 */
export async function resolveModels(args: readonly string[], modelsDir: string = shippedModelsDir()): Promise<string[]> {
  return (await resolveModelsNamed(args, modelsDir)).map((m) => m.path);
}

/** {@link resolveModels}, each member of an ensemble manifest keeping that ensemble's name. */
export async function resolveModelsNamed(args: readonly string[], modelsDir: string = shippedModelsDir()): Promise<ExpandedModel[]> {
  const paths = await Promise.all((args.length ? args : [undefined]).map((a) => resolveModel(a, modelsDir)));
  return expandEnsembleManifestsNamed(paths);
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || s.endsWith('.json');
}

function readPackageName(packageJson: string): string | undefined {
  try {
    const name: unknown = JSON.parse(readFileSync(packageJson, 'utf8')).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
