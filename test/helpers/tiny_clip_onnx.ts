/**
 * Test helper: a hand-encoded tiny clip model (NCTHW), so clip tests run a real onnxruntime session:
 * `logit = ReduceMean(input * w, axes=[1,2,3,4])` with time weights w[t] = t + 1, shape [1, 1, T, 1, 1].
 * The weights make the logit depend on frame order, so a wrong layout or time order shows.
 */
import type { FaceCrop } from '../../src/types.js';
import { type Field, bytes, concat, floatTensorInfo, int, intAttr, intsAttr, msg, str } from './tiny_onnx.js';

const FLOAT = 1;

/** NodeProto with several inputs. */
const node = (op: string, inputs: string[], output: string, ...attrs: Field[]) =>
  msg(1, ...inputs.map((i) => str(1, i)), str(2, output), str(4, op), ...attrs);

/** TensorProto (GraphProto field 5, initializer) of float32 values. */
function floatInitializer(name: string, dims: number[], values: number[]): Field {
  const raw = new Uint8Array(new Float32Array(values).buffer);
  return msg(5, ...dims.map((d) => int(1, d)), int(2, FLOAT), str(8, name), bytes(9, raw));
}

export interface TinyClipOptions {
  clipLength: number;
  size: number;
  /** Output shape: [N] (default) or [N, 1]. */
  output?: 'N' | 'N1';
}

/** Serialized ModelProto (IR 7, opset 13): input [N, 3, T, S, S] -> logit. */
export function tinyClipOnnxModel(o: TinyClipOptions): Uint8Array {
  const t = o.clipLength;
  const weights = Array.from({ length: t }, (_, i) => i + 1);
  const nodes =
    (o.output ?? 'N') === 'N'
      ? [node('Mul', ['input', 'w'], 'weighted'), node('ReduceMean', ['weighted'], 'logit', intsAttr('axes', [1, 2, 3, 4]), intAttr('keepdims', 0))]
      : [
          node('Mul', ['input', 'w'], 'weighted'),
          node('ReduceMean', ['weighted'], 'pooled', intsAttr('axes', [1, 2, 3, 4]), intAttr('keepdims', 1)),
          node('Flatten', ['pooled'], 'logit', intAttr('axis', 1)),
        ];
  const graph = msg(
    7,
    ...nodes,
    str(2, 'tiny-clip'),
    floatInitializer('w', [1, 1, t, 1, 1], weights),
    floatTensorInfo(11, 'input', ['N', 3, t, o.size, o.size]),
    floatTensorInfo(12, 'logit', (o.output ?? 'N') === 'N' ? ['N'] : ['N', 1]),
  );
  return concat([int(1, 7), str(2, 'unmask-test'), graph, msg(8, str(1, ''), int(2, 13))]);
}

/** The tiny clip model's logit for a clip of crops (in time order), normalised with mean/std. */
export function expectedClipLogit(clip: readonly FaceCrop[], mean: readonly number[], std: readonly number[]): number {
  let s = 0;
  let n = 0;
  clip.forEach((crop, ti) => {
    for (let i = 0; i < crop.rgb.length; i++) {
      s += ((crop.rgb[i] / 255 - mean[i % 3]) / std[i % 3]) * (ti + 1);
      n++;
    }
  });
  return s / n;
}
