/**
 * Worker thread that decodes one HEIF picture with libheif (WebAssembly) to packed RGB and hands
 * the pixels back without a copy (a transferred ArrayBuffer). A WebAssembly memory only grows, so
 * decoding on the main thread kept the largest picture's whole decoding heap for the rest of the
 * process; a thread of its own gives it back when it ends (heif_picture.ts).
 */
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { isHeifError, withFirstHeifImage } from './libheif_image.js';

/** What the thread posts: the picture (RGB, 3 bytes a pixel), or the decoder's one-line complaint. */
export type HeifWorkerReply = { width: number; height: number; data: ArrayBuffer } | { error: string };

const { path } = workerData as { path: string };
try {
  const reply = await withFirstHeifImage(await readFile(path), (lib, handle) => {
    // RGB, not RGBA: a quarter less of the decoder's memory (a 48 MP picture: 144 MB, not 192)
    const decoded = lib.heif_js_decode_image2(handle, lib.heif_colorspace.heif_colorspace_RGB, lib.heif_chroma.heif_chroma_interleaved_RGB);
    if (isHeifError(decoded)) throw new Error(decoded.message);
    try {
      const [plane] = decoded.channels;
      const row = plane.width * 3;
      // out of the WebAssembly memory, rows packed, into an array of its own
      const data = new ArrayBuffer(row * plane.height);
      const out = new Uint8Array(data);
      for (let y = 0; y < plane.height; y++) out.set(plane.data.subarray(y * plane.stride, y * plane.stride + row), y * row);
      return { width: plane.width, height: plane.height, data };
    } finally {
      lib.heif_image_release(decoded.image);
    }
  });
  parentPort!.postMessage(reply satisfies HeifWorkerReply, [reply.data]);
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message.split('\n')[0] } satisfies HeifWorkerReply);
}

