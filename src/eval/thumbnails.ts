/**
 * Face thumbnails for the worst-scored videos: one frame grabbed by ffmpeg at the face's time
 * (input seeking, so a frame near the end of a long video costs no more than one near the start),
 * or a still picture read as the scan reads it, the face box plus a margin cut out with sharp, a
 * small JPEG as a data URI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { decodeImage } from '../media/decode.js';
import { displayChain } from '../media/display_chain.js';
import { probeMedia } from '../media/probe.js';
import { mediaTools } from '../media/tools.js';
import type { Box } from '../types.js';
import type { EvalResults } from './eval_results.js';

const execFileAsync = promisify(execFile);

export const THUMBNAIL_SIZE = 96;
/** Border around the face box, as a fraction of its longer side per side. */
const THUMBNAIL_MARGIN = 0.2;

/** The square around `box` (plus margin) clipped to a `width` x `height` frame, in whole pixels. */
export function thumbnailRegion(box: Box, width: number, height: number): { left: number; top: number; width: number; height: number } {
  const side = Math.max(box.width, box.height) * (1 + 2 * THUMBNAIL_MARGIN);
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const left = Math.min(width - 1, Math.max(0, Math.floor(cx - side / 2)));
  const top = Math.min(height - 1, Math.max(0, Math.floor(cy - side / 2)));
  const right = Math.min(width, Math.ceil(cx + side / 2)), bottom = Math.min(height, Math.ceil(cy + side / 2));
  return { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
}

/**
 * A still picture as the scan read it (decodeImage: turned by its EXIF orientation, HEIC decoded by
 * libheif, a large one scaled down), with the scale from the picture's pixels, where boxes are, to
 * its own; undefined for anything that is not a still picture.
 */
async function readPicture(path: string): Promise<{ png: Buffer; toFrame: { x: number; y: number } } | undefined> {
  try {
    const info = await probeMedia(path);
    if (info.kind !== 'image' || info.frameTimesMs) return undefined;
    const f = await decodeImage(info);
    const png = await sharp(f.pixels.data, { raw: { width: f.width, height: f.height, channels: 3 } }).png().toBuffer();
    return { png, toFrame: { x: 1 / (f.toPicture?.x ?? 1), y: 1 / (f.toPicture?.y ?? 1) } };
  } catch {
    return undefined;
  }
}

/** The frame shown at `timeMs` of a video as encoded bytes, or undefined if it cannot be read. */
async function grabFrame(path: string, timeMs: number): Promise<Buffer | undefined> {
  // `-ss 0` before a still image input makes ffmpeg output nothing, so seek only when needed
  const seek = timeMs > 0 ? ['-ss', (timeMs / 1000).toFixed(3)] : [];
  try {
    // the frame as the scan saw it (deinterlaced, tone-mapped, square pixels where the video needs it)
    const display = displayChain(await probeMedia(path));
    const args = ['-hide_banner', '-loglevel', 'error', ...seek, '-i', path, '-frames:v', '1', ...(display ? ['-vf', display] : []), '-f', 'image2pipe', '-vcodec', 'png', '-'];
    const { stdout } = await execFileAsync(mediaTools().ffmpeg, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
    return stdout.length ? stdout : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `data:image/jpeg;base64,...` of the face at `box` in the frame at `timeMs` of `path`, `size` px
 * square (letterboxed, not stretched, where the margin leaves the frame); undefined if the frame
 * cannot be grabbed.
 */
export async function faceThumbnail(path: string, timeMs: number, box: Box, size = THUMBNAIL_SIZE): Promise<string | undefined> {
  const picture = timeMs <= 0 ? await readPicture(path) : undefined;
  const png = picture?.png ?? (await grabFrame(path, timeMs));
  if (!png) return undefined;
  const s = picture?.toFrame ?? { x: 1, y: 1 };
  const img = sharp(png);
  const { width, height } = await img.metadata();
  if (!width || !height) return undefined;
  const inFrame = { x: box.x * s.x, y: box.y * s.y, width: box.width * s.x, height: box.height * s.y };
  const jpeg = await img
    .extract(thumbnailRegion(inFrame, width, height))
    .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .jpeg({ quality: 80 })
    .toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/**
 * Fills `thumbnail` of every `worst` entry (grabbing each face once even when it is worst for
 * several scorers) and of the matching `videos` entries. Returns how many could not be made.
 */
export async function addThumbnails(results: EvalResults): Promise<number> {
  const made = new Map<string, Promise<string | undefined>>();
  let missing = 0;
  for (const w of results.worst) {
    if (w.timeMs === undefined || !w.box) continue;
    const key = `${w.path}\n${w.timeMs}\n${JSON.stringify(w.box)}`;
    if (!made.has(key)) made.set(key, faceThumbnail(w.path, w.timeMs, w.box));
    const thumb = await made.get(key);
    if (!thumb) {
      missing++;
      continue;
    }
    w.thumbnail = thumb;
    const v = results.videos.find((x) => x.path === w.path && x.model === w.model);
    if (v) v.thumbnail = thumb;
  }
  return missing;
}
