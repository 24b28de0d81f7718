/**
 * What the frame and clip classifiers share about their onnxruntime session: opening it with the
 * scan's thread settings, checking its signature, and reading the logit output.
 */
import { availableParallelism } from 'node:os';
import { ort } from './ort_runtime.js';
import { InvalidOptionError, ModelLoadError } from '../util/errors.js';
import { isFile } from './files.js';
import { type ClassifierSession, WorkerSession } from './inference_worker.js';

const MAX_DEFAULT_THREADS = 4;

/** Default intra-op threads of a classifier session: min(4, CPUs). */
export function defaultThreads(): number {
  return Math.min(MAX_DEFAULT_THREADS, availableParallelism());
}

/**
 * Opens `onnxPath` and runs `checkSignature` on the session (it throws a plain Error when the model
 * does not fit its manifest). Every failure becomes a one-line ModelLoadError; a session that fails
 * the check is released. `inWorker` (default true): the session runs in the process's inference
 * worker thread (inference_worker.ts), so inference overlaps the main thread's work.
 */
export async function openClassifierSession(
  onnxPath: string,
  threads: number,
  checkSignature: (session: ClassifierSession) => void,
  inWorker = true,
): Promise<ClassifierSession> {
  if (!(await isFile(onnxPath))) throw new ModelLoadError(onnxPath, 'ONNX file not found');
  let session: ClassifierSession;
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
    // no CPU memory arena: the arena keeps every batch's peak activations reserved per session; without
    // it a three-network ensemble peaked at 472 MB instead of 636 MB, for the same scan time
    // (bench/scan_bench.js, 10 s 1080p clip, 2 cores)
    enableCpuMemArena: false,
    // idle pool threads sleep instead of spinning: spinning burnt 2x the CPU on a busy 2-core
    // machine (scratch measurement) and starves ffmpeg, which decodes at the same time
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  try {
    session = inWorker ? await WorkerSession.create(onnxPath, options) : inProcess(await ort.InferenceSession.create(onnxPath, options));
  } catch (err) {
    throw new ModelLoadError(onnxPath, oneLine(err));
  }
  try {
    checkSignature(session);
  } catch (err) {
    await session.release();
    throw new ModelLoadError(onnxPath, oneLine(err));
  }
  return session;
}

/** An onnxruntime session on the calling thread, seen through the classifiers' interface. */
function inProcess(s: ort.InferenceSession): ClassifierSession {
  return {
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    inputMetadata: s.inputMetadata,
    outputMetadata: s.outputMetadata,
    run: (feeds, fetches) => (fetches ? s.run(feeds, fetches) : s.run(feeds)),
    release: () => s.release(),
  };
}

/** Checks a logit output is float32 [n, 1] or [n] and returns its data. */
export function readLogitTensor(value: ort.OnnxValue | undefined, n: number, onnxPath: string, outputName: string): Float32Array {
  const dims = value?.dims ?? [];
  const shapeOk = (dims.length === 1 || (dims.length === 2 && dims[1] === 1)) && dims[0] === n;
  if (!(value instanceof ort.Tensor) || value.type !== 'float32' || !shapeOk) {
    throw new ModelLoadError(
      onnxPath,
      `output "${outputName}" is ${value?.type ?? 'missing'} [${dims.join(', ')}]; expected float32 [${n}, 1] or [${n}]`,
    );
  }
  return value.data as Float32Array;
}

/**
 * Throws if tensor metadata is known and not float32, or its shape fits none of `shapes`
 * (`null` = any size; symbolic or unknown dimensions match anything).
 */
export function checkTensorMeta(
  meta: ort.InferenceSession.ValueMetadata | undefined,
  role: string,
  shapes: (number | null)[][],
  expected: string,
): void {
  if (!meta?.isTensor) return;
  if (meta.type !== 'float32') throw new Error(`${role} "${meta.name}" is ${meta.type}, expected float32`);
  const shape = meta.shape;
  if (shape.length === 0) return; // shape not recorded in the model
  const fits = (want: (number | null)[]) =>
    want.length === shape.length && shape.every((d, i) => typeof d !== 'number' || d < 1 || want[i] === null || d === want[i]);
  if (!shapes.some(fits)) throw new Error(`${role} "${meta.name}" has shape [${shape.join(', ')}], expected ${expected}`);
}

export function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/** First line of an error's message, trimmed and capped, for one-line CLI output. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
