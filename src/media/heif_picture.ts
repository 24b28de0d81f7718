/**
 * HEIF pictures coded with HEVC: what iPhones save as `.heic` by default. sharp reads their header
 * but cannot decode HEVC (its bundled libheif carries no HEVC decoder), and ffmpeg before 7 reads no
 * HEIF at all, so these are decoded by libheif compiled to WebAssembly (the npm package `libheif-js`,
 * libheif_image.ts). AVIF, also HEIF, stays with sharp. libheif applies the file's own rotation and
 * mirroring (`irot`, `imir`), so sizes and pixels here are the picture as shown. Measured with the
 * decoder alone (`heif-enc -q 80` of the face photo; the `heic-decode` wrapper used before):
 * 1920x1280 in 134-250 ms, 8000x6000 in 2.7-3.4 s.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Metadata } from 'sharp';
import type { HeifWorkerReply } from './heif_worker.js';
import { withFirstHeifImage } from './libheif_image.js';

/** `MediaInfo.codec` of the pictures decoded here. */
export const HEIC_CODEC = 'heic';

/** Whether sharp's metadata describes a HEIF picture coded with HEVC (one sharp cannot decode). */
export function isHevcHeif(m: Pick<Metadata, 'format' | 'compression'>): boolean {
  return m.format === 'heif' && m.compression === 'hevc';
}

/** The first top-level image's size as shown, and how many top-level images the file holds; no pixels decoded. */
export async function heifPictureSize(path: string): Promise<{ width: number; height: number; images: number }> {
  return withFirstHeifImage(await readFile(path), (lib, handle, images) => ({
    width: lib.heif_image_handle_get_width(handle),
    height: lib.heif_image_handle_get_height(handle),
    images,
  }));
}

/**
 * The first top-level image as packed RGB, 3 bytes a pixel, decoded in a thread of its own
 * (heif_worker.ts), so the decoder's memory goes back when it is done: measured on four 24 MP
 * pictures scanned two at a time, decoding on the main thread peaked at 839 MB.
 * @throws Error with the decoder's message when the file does not decode.
 */
export async function decodeHeifRgb(path: string): Promise<{ width: number; height: number; data: Buffer }> {
  const worker = new Worker(new URL('./heif_worker.js', import.meta.url), { workerData: { path } });
  try {
    const reply = await new Promise<HeifWorkerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the HEIF decoder thread stopped (exit ${code})`)));
    });
    if ('error' in reply) throw new Error(reply.error);
    return { width: reply.width, height: reply.height, data: Buffer.from(reply.data) };
  } finally {
    void worker.terminate();
  }
}
