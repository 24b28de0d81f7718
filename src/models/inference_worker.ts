/**
 * Classifier sessions that run in a worker thread (inference_worker_main.ts), one thread per process
 * shared by every such session. onnxruntime-node runs inference synchronously on the calling thread:
 * on the main thread a classifier batch stops face detection and cropping for as long as it runs.
 * In the worker the two overlap (measured in README "Speed"). Sessions run one at a time, in the
 * order asked, as they would on one thread.
 *
 * The thread is started with the first session and keeps the process alive only while a request
 * is in flight, so an idle classifier never holds a finished program open.
 */
import { Worker } from 'node:worker_threads';
import { ort } from './ort_runtime.js';
import type { InferenceReply, InferenceRequest, SessionSignature, WireTensor } from './inference_protocol.js';

/** What the classifiers use of a session; met by ort.InferenceSession and by {@link WorkerSession}. */
export interface ClassifierSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.OnnxValue>>;
  release(): Promise<void>;
}

type Pending = { resolve: (r: InferenceReply) => void; reject: (e: Error) => void };

class InferenceThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the thread is gone (it stopped or failed); later requests fail with it at once. */
  private gone: Error | undefined;
  sessions = 0;

  constructor() {
    this.worker = new Worker(new URL('./inference_worker_main.js', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (r: InferenceReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      p?.resolve(r);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`inference worker exited (code ${code})`)));
  }

  /** Sends a request; the reply comes back, or the promise rejects with the worker's message. */
  request(req: InferenceRequest, transfer: ArrayBuffer[] = []): Promise<InferenceReply> {
    return new Promise<InferenceReply>((resolve, reject) => {
      if (this.gone) return reject(this.gone);
      this.pending.set(req.id, { resolve, reject });
      this.worker.ref(); // a request in flight keeps the process alive
      this.worker.postMessage(req, transfer);
    }).then((r) => {
      if (r.kind === 'failed') throw new Error(r.message);
      return r;
    });
  }

  id(): number {
    return this.nextId++;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(e: Error): void {
    this.gone ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    if (thread === this) thread = undefined;
  }
}

let thread: InferenceThread | undefined;
let nextSession = 1;

/** A session living in the inference worker, used like an ort.InferenceSession. */
export class WorkerSession implements ClassifierSession {
  private constructor(
    private readonly owner: InferenceThread,
    private readonly session: number,
    private readonly signature: SessionSignature,
  ) {}

  /** Opens `onnxPath` in the worker (started on first use). Rejects with onnxruntime's message. */
  static async create(onnxPath: string, options: ort.InferenceSession.SessionOptions): Promise<WorkerSession> {
    const owner = (thread ??= new InferenceThread());
    owner.sessions++;
    const session = nextSession++;
    try {
      const r = await owner.request({ kind: 'open', id: owner.id(), session, onnxPath, options });
      if (r.kind !== 'opened') throw new Error(`unexpected reply ${r.kind}`);
      return new WorkerSession(owner, session, r.signature);
    } catch (e) {
      await closeIfUnused(owner);
      throw e;
    }
  }

  get inputNames(): readonly string[] {
    return this.signature.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.signature.outputNames;
  }
  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.signature.inputMetadata;
  }
  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.signature.outputMetadata;
  }

  /** Runs the session on float32 feeds (copied once into the message; the caller's buffers stay its own). */
  async run(feeds: Record<string, ort.Tensor>, fetches?: string[]): Promise<Record<string, ort.OnnxValue>> {
    const wire: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(feeds)) {
      if (t.type !== 'float32') throw new Error(`input "${name}" is ${t.type}; the inference worker takes float32`);
      const data = (t.data as Float32Array).slice().buffer as ArrayBuffer;
      wire[name] = { dims: [...t.dims], data };
      transfer.push(data);
    }
    const r = await this.owner.request({ kind: 'run', id: this.owner.id(), session: this.session, feeds: wire, ...(fetches ? { fetches } : {}) }, transfer);
    if (r.kind !== 'ran') throw new Error(`unexpected reply ${r.kind}`);
    return Object.fromEntries(Object.entries(r.outputs).map(([name, t]) => [name, new ort.Tensor('float32', new Float32Array(t.data), t.dims)]));
  }

  /** Releases the session; the worker thread ends with the last one. */
  async release(): Promise<void> {
    try {
      await this.owner.request({ kind: 'release', id: this.owner.id(), session: this.session });
    } finally {
      await closeIfUnused(this.owner);
    }
  }
}

async function closeIfUnused(owner: InferenceThread): Promise<void> {
  owner.sessions--;
  if (owner.sessions > 0) return;
  if (thread === owner) thread = undefined;
  await owner.terminate();
}
