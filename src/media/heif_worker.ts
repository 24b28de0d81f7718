/**
 * Worker thread that decodes one HEIF picture with libheif (WebAssembly) and hands its RGBA pixels
 * back without a copy (a transferred ArrayBuffer). A WebAssembly memory only grows, so decoding on
 * the main thread kept the largest picture's whole decoding heap for the rest of the process; a
 * thread of its own gives it back when it ends (heif_picture.ts).
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import decode from 'heic-decode';

/** What the thread posts: the picture, or the decoder's one-line complaint. */
export type HeifWorkerReply = { width: number; height: number; data: ArrayBuffer } | { error: string };

const { path } = workerData as { path: string };
try {
  const { width, height, data } = await decode({ buffer: await readFile(path) });
  // the pixels are copied out of the WebAssembly memory into an array of their own: sent as is
  const pixels = (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data.buffer : data.slice().buffer) as ArrayBuffer;
  parentPort!.postMessage({ width, height, data: pixels } satisfies HeifWorkerReply, [pixels]);
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message.split('\n')[0] } satisfies HeifWorkerReply);
}
