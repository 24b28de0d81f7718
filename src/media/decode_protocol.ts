/** What the main thread and a frame-reading worker (decode_worker.ts) exchange. */
import type { YuvMatrix } from '../image/yuv.js';
import type { StackedLayout } from './stacked_frame.js';

/** One decode pass for a worker: read whole frames from `fd` (blocking) until end of file or STOP. */
export interface ReadJob {
  kind: 'read';
  /** Read end of the FIFO that ffmpeg writes to (a process-wide descriptor; the main thread closes it after `end`). */
  fd: number;
  /** What one frame holds (the frame with the detector preview stacked below it). */
  layout: StackedLayout;
  matrix: YuvMatrix;
  /** Frames handed over but not yet consumed before reading pauses (ffmpeg then blocks). */
  maxAhead: number;
  /**
   * Control block shared with the main thread (Int32Array): [CONSUMED] frames the main thread has
   * taken, [STOP] 1 when it wants no more. The main thread notifies index CONSUMED on every change.
   */
  control: SharedArrayBuffer;
}

export const CONSUMED = 0;
export const STOP = 1;

export type WorkerMessage =
  | { kind: 'frame'; full: ArrayBuffer; preview?: ArrayBuffer }
  /** The job is over (end of file or STOP); `error` when reading failed. */
  | { kind: 'end'; error?: string };
