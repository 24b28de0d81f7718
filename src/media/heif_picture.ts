/**
 * HEIF pictures coded with HEVC: what iPhones save as `.heic` by default. sharp reads their header
 * but cannot decode HEVC (its bundled libheif carries no HEVC decoder), and ffmpeg before 7 reads no
 * HEIF at all, so these are decoded by libheif compiled to WebAssembly (the npm package
 * `heic-decode`, over `libheif-js`). AVIF, also HEIF, stays with sharp. libheif applies the file's
 * own rotation and mirroring (`irot`, `imir`), so sizes and pixels here are the picture as shown.
 * Measured with heic-decode alone (`heif-enc -q 80` of the face photo): 1920x1280 in 134-250 ms,
 * 8000x6000 in 2.7-3.4 s.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Metadata } from 'sharp';
import type { HeifWorkerReply } from './heif_worker.js';

/** `MediaInfo.codec` of the pictures decoded here. */
export const HEIC_CODEC = 'heic';

/** Whether sharp's metadata describes a HEIF picture coded with HEVC (one sharp cannot decode). */
export function isHevcHeif(m: Pick<Metadata, 'format' | 'compression'>): boolean {
  return m.format === 'heif' && m.compression === 'hevc';
}

/** The first top-level image's size as shown, and how many top-level images the file holds; no pixels decoded. */
export async function heifPictureSize(path: string): Promise<{ width: number; height: number; images: number }> {
  // loaded here, not at start-up: importing the decoder costs every process about 90 ms and 24 MB
  const { default: decode } = await import('heic-decode');
  const images = await decode.all({ buffer: await readFile(path) });
  try {
    return { width: images[0].width, height: images[0].height, images: images.length };
  } finally {
    images.dispose();
  }
}

/**
 * The first top-level image as RGBA, 4 bytes a pixel, decoded in a thread of its own (heif_worker.ts),
 * so the decoder's memory goes back when it is done: measured on four 24 MP pictures scanned two at a
 * time, decoding on the main thread peaked at 839 MB.
 * @throws Error with the decoder's message when the file does not decode.
 */
export async function decodeHeifRgba(path: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const worker = new Worker(new URL('./heif_worker.js', import.meta.url), { workerData: { path } });
  try {
    const reply = await new Promise<HeifWorkerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the HEIF decoder thread stopped (exit ${code})`)));
    });
    if ('error' in reply) throw new Error(reply.error);
    return { width: reply.width, height: reply.height, data: new Uint8Array(reply.data) };
  } finally {
    void worker.terminate();
  }
}
