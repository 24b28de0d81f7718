/**
 * Worker thread that runs classifier sessions (see inference_worker.ts). onnxruntime-node runs
 * `session.run` synchronously on the calling thread; here that thread is not the main one, so the
 * main thread goes on detecting and cropping faces while the classifier scores the previous batch.
 */
import { ort } from './ort_runtime.js';
import { parentPort } from 'node:worker_threads';
import type { InferenceReply, InferenceRequest, WireTensor } from './inference_protocol.js';

const sessions = new Map<number, ort.InferenceSession>();
const port = parentPort!;

function reply(message: InferenceReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function handle(req: InferenceRequest): Promise<void> {
  switch (req.kind) {
    case 'open': {
      const s = await ort.InferenceSession.create(req.onnxPath, req.options);
      sessions.set(req.session, s);
      reply({
        kind: 'opened',
        id: req.id,
        signature: { inputNames: [...s.inputNames], outputNames: [...s.outputNames], inputMetadata: [...s.inputMetadata], outputMetadata: [...s.outputMetadata] },
      });
      return;
    }
    case 'run': {
      const s = sessions.get(req.session);
      if (!s) throw new Error('session was released');
      const feeds = Object.fromEntries(
        Object.entries(req.feeds).map(([name, t]) => [name, new ort.Tensor('float32', new Float32Array(t.data), t.dims)]),
      );
      const results = await (req.fetches ? s.run(feeds, req.fetches) : s.run(feeds));
      const outputs: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, value] of Object.entries(results)) {
        if (!(value instanceof ort.Tensor) || value.type !== 'float32') throw new Error(`output "${name}" is not a float32 tensor`);
        // a copy of exactly this tensor's bytes, so the transfer detaches nothing onnxruntime owns
        const data = (value.data as Float32Array).slice().buffer as ArrayBuffer;
        outputs[name] = { dims: [...value.dims], data };
        transfer.push(data);
      }
      reply({ kind: 'ran', id: req.id, outputs }, transfer);
      return;
    }
    case 'release': {
      await sessions.get(req.session)?.release();
      sessions.delete(req.session);
      reply({ kind: 'released', id: req.id });
      return;
    }
  }
}

// requests run one at a time, in order: the sessions share this thread
let queue: Promise<void> = Promise.resolve();
port.on('message', (req: InferenceRequest) => {
  queue = queue.then(() =>
    handle(req).catch((e: unknown) => reply({ kind: 'failed', id: req.id, message: (e as Error).message ?? String(e) })),
  );
});
