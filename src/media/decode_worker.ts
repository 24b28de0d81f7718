/**
 * Worker thread that reads decoded frames from ffmpeg's output FIFO, one job after another (the
 * thread is pooled by frame_reader.ts: starting a thread costs ~70 ms of CPU, more than reading a
 * 32-frame 1080p pass).
 *
 * Why a thread: onnxruntime-node runs inference synchronously on the main thread, so a pipe read
 * there waits for each detector and classifier call; ffmpeg then blocks on its full 64 KB pipe and
 * decoding stops while faces are being scored. Here the pipe is read with blocking reads straight
 * into each frame's buffer (3x less CPU than a Node stream over the same ~100 MB of a 1080p pass),
 * whole frames are handed over without copying (transferred ArrayBuffers) with their detector preview
 * converted to RGB, and ffmpeg runs ahead up to `maxAhead` frames the main thread has not taken.
 */
import { readSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { CONSUMED, type ReadJob, STOP, type WorkerMessage } from './decode_protocol.js';
import { previewRgb, stackedFrameBytes } from './stacked_frame.js';

/** Where the main thread hands consumed frame buffers back (a fresh 3 MB buffer per frame costs page faults). */
const recycled = (workerData as { recycle: MessagePort }).recycle;

/** A buffer for the next frame: one handed back if any has the right size, else a new one. */
function frameBuffer(bytes: number): Uint8Array {
  for (let m = receiveMessageOnPort(recycled); m; m = receiveMessageOnPort(recycled)) {
    const buf = m.message as ArrayBuffer;
    if (buf.byteLength === bytes) return new Uint8Array(buf); // the rest stay queued for later frames
  }
  return new Uint8Array(bytes);
}

/** Blocks while `maxAhead` frames wait unconsumed; false once the main thread asked to stop. */
function waitForRoom(job: ReadJob, ctl: Int32Array, sent: number): boolean {
  for (;;) {
    if (Atomics.load(ctl, STOP)) return false;
    const consumed = Atomics.load(ctl, CONSUMED);
    if (sent - consumed < job.maxAhead) return true;
    Atomics.wait(ctl, CONSUMED, consumed, 1000);
  }
}

/** Fills `buf` from the blocking fd; false when the pipe ended first (a partial frame is dropped). */
function readFull(fd: number, buf: Uint8Array): boolean {
  let filled = 0;
  while (filled < buf.length) {
    let n: number;
    try {
      n = readSync(fd, buf, filled, buf.length - filled, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) return false;
    filled += n;
  }
  return true;
}

function runJob(job: ReadJob): void {
  const port = parentPort!;
  const ctl = new Int32Array(job.control);
  const bytes = stackedFrameBytes(job.layout);
  let error: string | undefined;
  try {
    for (let sent = 0; waitForRoom(job, ctl, sent); sent++) {
      const frame = frameBuffer(bytes);
      if (!readFull(job.fd, frame)) break;
      const full = frame.buffer as ArrayBuffer;
      const preview = previewRgb(Buffer.from(full), job.layout, job.matrix)?.data;
      const previewBuf = preview?.buffer as ArrayBuffer | undefined; // previewRgb allocates it unpooled
      port.postMessage({ kind: 'frame', full, preview: previewBuf } satisfies WorkerMessage, previewBuf ? [full, previewBuf] : [full]);
    }
  } catch (e) {
    error = (e as Error).message;
  }
  // the main thread opened the fd and closes it (Node warns when a worker closes a descriptor it did not open)
  port.postMessage({ kind: 'end', error } satisfies WorkerMessage);
}

parentPort!.on('message', (job: ReadJob) => runJob(job));
