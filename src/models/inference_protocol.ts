/** What the main thread and the inference worker (inference_worker_main.ts) exchange. */
import type * as ort from 'onnxruntime-node';

/** A float32 tensor in transit: its buffer is transferred, not copied. */
export interface WireTensor {
  dims: number[];
  data: ArrayBuffer;
}

export type InferenceRequest =
  | { kind: 'open'; id: number; session: number; onnxPath: string; options: ort.InferenceSession.SessionOptions }
  | { kind: 'run'; id: number; session: number; feeds: Record<string, WireTensor>; fetches?: string[] }
  | { kind: 'release'; id: number; session: number };

export interface SessionSignature {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: ort.InferenceSession.ValueMetadata[];
  outputMetadata: ort.InferenceSession.ValueMetadata[];
}

export type InferenceReply =
  | { kind: 'opened'; id: number; signature: SessionSignature }
  | { kind: 'ran'; id: number; outputs: Record<string, WireTensor> }
  | { kind: 'released'; id: number }
  | { kind: 'failed'; id: number; message: string };
