/**
 * Test helper: hand-encodes tiny ONNX models (protobuf wire format, no dependencies) so the model
 * tests run a real onnxruntime session. Only the protobuf fields these graphs need are written.
 */

/** Output shapes the tiny model can produce, for the classifier's shape checks. */
export type TinyOutput =
  /** logit = mean over C,H,W of the input: shape [N]. */
  | 'N'
  /** Same values, shape [N, 1] (ReduceMean keepdims=1, then Flatten). */
  | 'N1'
  /** Per-channel means, shape [N, 3] (for N > 1): not a valid classifier output. */
  | 'N3';

export interface TinyModelOptions {
  output?: TinyOutput;
  /** Fixed side of the input; omitted: symbolic H and W. */
  size?: number;
  /** Record the output's shape in the model (default true); false hides it from load-time checks. */
  outputShape?: boolean;
}

// Wire types.
const VARINT = 0;
const LEN = 2;
// onnx.proto enums.
const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2;
const ATTR_INTS = 7;

export type Field = Uint8Array;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const tag = (field: number, wire: number) => varint(field * 8 + wire);
export const int = (field: number, v: number): Field => Uint8Array.from([...tag(field, VARINT), ...varint(v)]);
export const bytes = (field: number, b: Uint8Array): Field => concat([Uint8Array.from([...tag(field, LEN), ...varint(b.length)]), b]);
export const str = (field: number, s: string): Field => bytes(field, new TextEncoder().encode(s));
export const msg = (field: number, ...fields: Field[]): Field => bytes(field, concat(fields));

/** AttributeProto (NodeProto field 5). */
export const intAttr = (name: string, v: number) => msg(5, str(1, name), int(3, v), int(20, ATTR_INT));
export const intsAttr = (name: string, vs: number[]) => msg(5, str(1, name), ...vs.map((v) => int(8, v)), int(20, ATTR_INTS));

/** NodeProto (GraphProto field 1). */
const node = (op: string, input: string, output: string, ...attrs: Field[]) =>
  msg(1, str(1, input), str(2, output), str(4, op), ...attrs);

/**
 * ValueInfoProto of a float tensor; a string dim is symbolic, `null` dims: shape not recorded.
 * `field`: 11 input, 12 output.
 */
export function floatTensorInfo(field: number, name: string, dims: (number | string)[] | null): Field {
  const shape = dims === null ? [] : [msg(2, ...dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d))))];
  const tensorType = msg(1, int(1, FLOAT), ...shape);
  return msg(field, str(1, name), msg(2, tensorType));
}

/** Serialized ModelProto (IR 7, opset 13) of a graph `input [N,3,H,W] -> logit`. */
export function tinyOnnxModel(options: TinyModelOptions = {}): Uint8Array {
  const output = options.output ?? 'N';
  const side = options.size ?? 'S';
  const nodes =
    output === 'N'
      ? [node('ReduceMean', 'input', 'logit', intsAttr('axes', [1, 2, 3]), intAttr('keepdims', 0))]
      : output === 'N1'
        ? [
            node('ReduceMean', 'input', 'pooled', intsAttr('axes', [1, 2, 3]), intAttr('keepdims', 1)),
            node('Flatten', 'pooled', 'logit', intAttr('axis', 1)),
          ]
        : // Squeeze without axes: shape inference cannot tell whether N is 1, so only the declared
          // output shape (if any) is known before running.
          [
            node('ReduceMean', 'input', 'means', intsAttr('axes', [2, 3]), intAttr('keepdims', 0)),
            node('Squeeze', 'means', 'logit'),
          ];
  const outDims = { N: ['N'], N1: ['N', 1], N3: ['N', 3] }[output];
  const graph = msg(
    7,
    ...nodes,
    str(2, 'tiny'),
    floatTensorInfo(11, 'input', ['N', 3, side, side]),
    floatTensorInfo(12, 'logit', options.outputShape === false ? null : outDims),
  );
  return concat([int(1, 7), str(2, 'unmask-test'), graph, msg(8, str(1, ''), int(2, 13))]);
}
