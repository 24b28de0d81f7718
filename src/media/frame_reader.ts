/**
 * Reading ffmpeg's raw frames (the frame with its detector preview stacked below, see
 * stacked_frame.ts), in one of two ways:
 * - from a FIFO, by a pooled worker thread with blocking reads (decode_worker.ts): decoding runs on
 *   while the main thread is busy in inference, and reading costs little CPU;
 * - from ffmpeg's stdout as a Node stream on the main thread: the fallback where FIFOs do not exist.
 */
import { closeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { YuvMatrix } from '../image/yuv.js';
import { CONSUMED, type ReadJob, STOP, type WorkerMessage } from './decode_protocol.js';
import { previewRgb, type StackedLayout, stackedFrameBytes } from './stacked_frame.js';

export interface RawFrame {
  /** The stacked frame. */
  full: ArrayBuffer;
  /** The preview as packed RGB, when the layout has one. */
  preview?: ArrayBuffer;
}

export interface FrameReader {
  /** The next frame, or undefined at the end of the pass. Throws when reading failed. */
  next(): Promise<RawFrame | undefined>;
  /** The consumer is done with a frame; its buffer may be filled again when `reuse`. */
  release(frame: RawFrame, reuse: boolean): void;
  /** No more frames wanted (the caller kills ffmpeg); safe to call at any time, twice too. */
  stop(): void;
}

/** A queue of frames with one waiting consumer, fed by either reader. */
class Inbox {
  private readonly items: RawFrame[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;

  push(f: RawFrame): void {
    this.items.push(f);
    this.notify();
  }

  end(error?: Error): void {
    this.ended = true;
    this.error ??= error;
    this.notify();
  }

  get length(): number {
    return this.items.length;
  }

  async next(): Promise<RawFrame | undefined> {
    for (;;) {
      if (this.items.length) return this.items.shift();
      if (this.error) throw this.error;
      if (this.ended) return undefined;
      await new Promise<void>((res) => (this.wake = res));
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}

/** A reading thread kept between passes, with the port its frame buffers come back on. */
interface PooledWorker {
  worker: Worker;
  recycle: MessagePort;
}

const idle: PooledWorker[] = [];
/** Idle threads kept (several scans may decode at once). */
const MAX_IDLE = 2;

function acquireWorker(): PooledWorker {
  const pooled = idle.pop();
  if (pooled) {
    pooled.worker.ref();
    return pooled;
  }
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./decode_worker.js', import.meta.url), { workerData: { recycle: port2 }, transferList: [port2] });
  port1.unref();
  return { worker, recycle: port1 };
}

function releaseWorker(w: PooledWorker): void {
  w.worker.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
  if (idle.length >= MAX_IDLE) {
    void w.worker.terminate();
    return;
  }
  w.worker.unref(); // an idle thread never keeps the process alive
  idle.push(w);
}

/**
 * Starts a reading thread ahead of the first decode and leaves it idle in the pool (starting one took
 * about 50 ms of a scan's first frames). Does nothing when one is idle already.
 */
export function prewarmFrameReader(): void {
  if (idle.length === 0) releaseWorker(acquireWorker());
}

/** Frames from the read end of a FIFO, read by a pooled worker thread. */
export function readFramesFromFifo(fd: number, layout: StackedLayout, matrix: YuvMatrix, maxAhead: number): FrameReader {
  const w = acquireWorker();
  const inbox = new Inbox();
  const control = new Int32Array(new SharedArrayBuffer(8));
  let live = true;
  const finish = (error?: Error) => {
    inbox.end(error);
    if (!live) return;
    live = false;
    closeSync(fd);
    if (error) void w.worker.terminate(); // a failed thread is not reused
    else releaseWorker(w);
  };
  w.worker.on('message', (m: WorkerMessage) => {
    if (m.kind === 'frame') inbox.push({ full: m.full, preview: m.preview });
    else finish(m.error ? new Error(m.error) : undefined);
  });
  w.worker.on('error', (e) => finish(e));
  w.worker.on('exit', () => finish(new Error('the decode thread stopped')));
  w.worker.postMessage({ kind: 'read', fd, layout, matrix, maxAhead, control: control.buffer as SharedArrayBuffer } satisfies ReadJob);
  return {
    next: () => inbox.next(),
    release(frame, reuse) {
      Atomics.add(control, CONSUMED, 1);
      Atomics.notify(control, CONSUMED);
      if (reuse) w.recycle.postMessage(frame.full, [frame.full]); // queued for the thread's next reads, this pass or a later one
    },
    stop() {
      Atomics.store(control, STOP, 1);
      Atomics.notify(control, CONSUMED);
    },
  };
}

/** Frames from ffmpeg's stdout as a Node stream, cut on the main thread (the fallback). */
export function readFramesFromStream(stream: Readable, layout: StackedLayout, matrix: YuvMatrix, maxAhead: number): FrameReader {
  const bytes = stackedFrameBytes(layout);
  const inbox = new Inbox();
  const spare: ArrayBuffer[] = [];
  let current = new Uint8Array(bytes);
  let filled = 0;
  stream.on('data', (chunk: Buffer) => {
    for (let off = 0; off < chunk.length; ) {
      const n = Math.min(bytes - filled, chunk.length - off);
      current.set(chunk.subarray(off, off + n), filled);
      filled += n;
      off += n;
      if (filled === bytes) {
        const full = current.buffer as ArrayBuffer;
        const preview = previewRgb(Buffer.from(full), layout, matrix)?.data;
        inbox.push({ full, preview: preview?.buffer as ArrayBuffer | undefined });
        current = new Uint8Array(spare.pop() ?? new ArrayBuffer(bytes));
        filled = 0;
      }
    }
    if (inbox.length >= maxAhead) stream.pause();
  });
  stream.on('end', () => inbox.end());
  stream.on('error', (e) => inbox.end(e));
  return {
    next: () => inbox.next(),
    release(frame, reuse) {
      if (reuse) spare.push(frame.full);
      if (inbox.length < maxAhead) stream.resume();
    },
    stop() {
      stream.destroy();
    },
  };
}
