/**
 * Worker thread that runs one ffmpeg decode pass and drains its pipes.
 *
 * Why a thread: onnxruntime-node runs inference synchronously on the main thread, so a pipe read
 * there waits for each detector and classifier call; ffmpeg then blocks on its full 64 KB pipe and
 * decoding stops while faces are being scored. Here the pipes are drained at once, whole frames are
 * handed over without copying (transferred ArrayBuffers), and ffmpeg runs ahead up to `maxAhead`
 * frames that the main thread has not consumed yet.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';

export interface DecodeJob {
  ffmpeg: string;
  args: string[];
  /** Bytes of one full frame on stdout. */
  fullBytes: number;
  /** Bytes of one preview frame on fd 3. */
  previewBytes: number;
  /** Frames handed over but not yet consumed before ffmpeg is paused. */
  maxAhead: number;
}

export type WorkerMessage =
  | { kind: 'frame'; full: ArrayBuffer; preview: ArrayBuffer }
  | { kind: 'done'; code: number; stderr: string }
  | { kind: 'error'; message: string };

export type MainMessage = { kind: 'consumed' } | { kind: 'stop' };

/** Cuts a byte stream into fixed-size frames, each in its own (transferable) ArrayBuffer. */
class FrameChunker {
  readonly ready: ArrayBuffer[] = [];
  ended = false;
  private current: Uint8Array;
  private filled = 0;

  constructor(private readonly frameBytes: number) {
    this.current = new Uint8Array(frameBytes);
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.frameBytes - this.filled, chunk.length - off);
      this.current.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.frameBytes) {
        this.ready.push(this.current.buffer as ArrayBuffer);
        this.current = new Uint8Array(this.frameBytes);
        this.filled = 0;
      }
    }
  }
}

function run(job: DecodeJob): void {
  const port = parentPort!;
  const child = spawn(job.ffmpeg, job.args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const fullOut = child.stdout!;
  const previewOut = child.stdio[3] as Readable;
  const full = new FrameChunker(job.fullBytes), preview = new FrameChunker(job.previewBytes);
  let stderr = '';
  let ahead = 0;
  let open = 3; // stdout, fd 3, process close

  const handOver = () => {
    while (full.ready.length && preview.ready.length) {
      const msg: WorkerMessage = { kind: 'frame', full: full.ready.shift()!, preview: preview.ready.shift()! };
      port.postMessage(msg, [msg.full, msg.preview]);
      ahead++;
    }
    if (ahead >= job.maxAhead) fullOut.pause();
  };
  let exitCode = -1;
  const finish = () => {
    if (--open > 0) return;
    port.postMessage({ kind: 'done', code: exitCode, stderr } satisfies WorkerMessage);
    port.close();
  };

  child.on('error', (e) => {
    port.postMessage({ kind: 'error', message: e.message } satisfies WorkerMessage);
    port.close();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  fullOut.on('data', (c: Buffer) => (full.push(c), handOver()));
  previewOut.on('data', (c: Buffer) => (preview.push(c), handOver()));
  fullOut.on('end', finish);
  previewOut.on('end', finish);
  child.on('close', (code) => ((exitCode = code ?? -1), finish()));

  port.on('message', (m: MainMessage) => {
    if (m.kind === 'stop') {
      if (child.exitCode === null) child.kill('SIGKILL');
      return;
    }
    ahead--;
    if (ahead < job.maxAhead) fullOut.resume();
  });
}

run(workerData as DecodeJob);
