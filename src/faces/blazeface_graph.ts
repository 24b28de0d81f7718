/**
 * BlazeFace for inputs smaller than its square, derived from the package's 256x256 graph. The model
 * is fully convolutional; only six constants (the channel padding's shapes and the output reshapes)
 * and the declared input and output shapes fix its size, so a copy with those set for another height
 * and width runs the same weights over fewer pixels. The detector uses it for the whole-frame view of
 * a wide or tall frame, whose square letterbox is mostly black bands (blazeface.ts, `trimmedInput`).
 */
import { createRequire } from 'node:module';
import type onnxProto from 'onnx-proto';

/** onnx-proto (protobufjs), loaded when a graph is first derived: at start-up it cost every process about 35 ms. */
let proto: typeof onnxProto.onnx | undefined;
function onnxMessages(): typeof onnxProto.onnx {
  return (proto ??= (createRequire(import.meta.url)('onnx-proto') as typeof onnxProto).onnx);
}

/** The total stride of the model's coarsest layer: derived sides must be multiples of it. */
export const BLAZEFACE_CELL = 32;

/** The graph's size-bound constants, by name: their value for an input of `h` x `w`. */
const SIZE_CONSTANTS: Readonly<Record<string, (h: number, w: number) => number[]>> = {
  // zero channels concatenated after the second and third max-pools (NCHW)
  shape_1x24x32x32: (h, w) => [1, 24, h / 8, w / 8],
  shape_1x48x16x16: (h, w) => [1, 48, h / 16, w / 16],
  // [1, anchors, 1] scores and [1, anchors, 16] boxes: 2 anchors per 16-px cell, 6 per 32-px cell
  const_fold_opt__354: (h, w) => [1, (h / 16) * (w / 16) * 2, 1],
  const_fold_opt__355: (h, w) => [1, (h / 16) * (w / 16) * 2, 16],
  const_fold_opt__358: (h, w) => [1, (h / 32) * (w / 32) * 6, 1],
  const_fold_opt__356: (h, w) => [1, (h / 32) * (w / 32) * 6, 16],
};

/** The graph's outputs and the reshape constant each comes from. */
const OUTPUT_SHAPES: Readonly<Record<string, string>> = {
  'Identity:0': 'const_fold_opt__354',
  'Identity_2:0': 'const_fold_opt__355',
  'Identity_1:0': 'const_fold_opt__358',
  'Identity_3:0': 'const_fold_opt__356',
};

/** The package's graph is not the one this derivation knows (another version of the package). */
export class UnknownBlazeFaceGraphError extends Error {}

const SQUARE = 256;

/**
 * The 256x256 BlazeFace graph (`model`, the package's ONNX bytes) re-sized for an NHWC input of
 * `height` x `width` (multiples of {@link BLAZEFACE_CELL}). Anchors keep their order, row by row of
 * cells, so the outputs decode as the square's with fewer rows or columns.
 *
 * @throws UnknownBlazeFaceGraphError when the graph's size-bound constants or shapes are not the
 *   256x256 values this derivation expects.
 */
export function deriveBlazeFaceGraph(model: Uint8Array, height: number, width: number): Uint8Array {
  for (const side of [height, width]) {
    if (!Number.isInteger(side) || side <= 0 || side % BLAZEFACE_CELL !== 0) throw new RangeError(`BlazeFace input sides must be positive multiples of ${BLAZEFACE_CELL}, got ${height}x${width}`);
  }
  const onnx = onnxMessages();
  const m = onnx.ModelProto.decode(model);
  const g = m.graph;
  if (!g) throw new UnknownBlazeFaceGraphError('the ONNX file has no graph');
  const found = new Set<string>();
  for (const t of g.initializer ?? []) {
    const value = SIZE_CONSTANTS[t.name ?? ''];
    if (!value) continue;
    const expected = value(SQUARE, SQUARE);
    const now = int64Values(t);
    if (now.length !== expected.length || now.some((v, i) => v !== expected[i]))
      throw new UnknownBlazeFaceGraphError(`constant ${t.name} is [${now}], not [${expected}]`);
    setInt64Values(t, value(height, width));
    found.add(t.name!);
  }
  const missing = Object.keys(SIZE_CONSTANTS).filter((k) => !found.has(k));
  if (missing.length) throw new UnknownBlazeFaceGraphError(`constants missing: ${missing.join(', ')}`);

  const input = g.input?.[0];
  const inDims = input?.type?.tensorType?.shape?.dim ?? [];
  if (inDims.map((d) => Number(d.dimValue)).join() !== `1,${SQUARE},${SQUARE},3`) throw new UnknownBlazeFaceGraphError(`input ${input?.name} is not 1x256x256x3`);
  inDims[1].dimValue = height;
  inDims[2].dimValue = width;
  for (const out of g.output ?? []) {
    const constant = OUTPUT_SHAPES[out.name ?? ''];
    const dims = out.type?.tensorType?.shape?.dim;
    if (!constant || !dims || dims.length !== 3) throw new UnknownBlazeFaceGraphError(`unexpected output ${out.name}`);
    SIZE_CONSTANTS[constant](height, width).forEach((v, i) => (dims[i].dimValue = v));
  }
  // the intermediate tensors' recorded shapes are the square's: let onnxruntime infer them again
  g.valueInfo = [];
  return onnx.ModelProto.encode(m).finish();
}

/** An int64 tensor's values, whether stored as int64_data or little-endian raw bytes. */
function int64Values(t: onnxProto.onnx.ITensorProto): number[] {
  if (t.int64Data?.length) return t.int64Data.map(Number);
  const raw = t.rawData;
  if (!raw || raw.length % 8 !== 0) return [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

/** Sets an int64 tensor's values, stored as the file stores them (raw bytes or int64_data). */
function setInt64Values(t: onnxProto.onnx.ITensorProto, values: number[]): void {
  if (t.int64Data?.length) {
    t.int64Data = values;
    return;
  }
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  t.rawData = raw;
}
