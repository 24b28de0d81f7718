/**
 * Face thumbnails for the worst-scored videos: one frame grabbed by ffmpeg at the face's time
 * (input seeking, so a frame near the end of a long video costs no more than one near the start),
 * or a still picture read as the scan reads it, the face box plus a margin cut out with sharp, a
 * small JPEG as a data URI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { decodeImage } from '../media/decode.js';
import { displayChain } from '../media/display_chain.js';
import type { MediaInfo } from '../media/media_info.js';
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

/** What a thumbnail is cut from: the frame as sharp input, its size, and the scale from the picture's pixels (where boxes are) to its own. */
interface ThumbnailSource {
  img: Sharp;
  width: number;
  height: number;
  toFrame: { x: number; y: number };
}

/**
 * The frame shown at `timeMs`: a still picture read as the scan reads it (decodeImage: turned by its
 * EXIF orientation, HEIC decoded by libheif, a large one scaled down), a video's frame grabbed by
 * ffmpeg; undefined if it cannot be read.
 */
async function thumbnailSource(path: string, timeMs: number): Promise<ThumbnailSource | undefined> {
  try {
    const info = await probeMedia(path);
    if (info.kind === 'image') {
      const f = await decodeImage(info);
      const img = sharp(f.pixels.data, { raw: { width: f.width, height: f.height, channels: 3 } });
      return { img, width: f.width, height: f.height, toFrame: { x: 1 / (f.toPicture?.x ?? 1), y: 1 / (f.toPicture?.y ?? 1) } };
    }
    const png = await grabFrame(info, timeMs);
    const { width, height } = await sharp(png).metadata();
    return width && height ? { img: sharp(png), width, height, toFrame: { x: 1, y: 1 } } : undefined;
  } catch {
    return undefined;
  }
}

/** A video's frame at `timeMs` as PNG bytes, as the scan saw it (deinterlaced, tone-mapped, square pixels where the video needs it). */
async function grabFrame(info: MediaInfo, timeMs: number): Promise<Buffer> {
  // `-ss 0` makes ffmpeg output nothing for some inputs, so seek only when needed
  const seek = timeMs > 0 ? ['-ss', (timeMs / 1000).toFixed(3)] : [];
  const display = displayChain(info);
  const args = ['-hide_banner', '-loglevel', 'error', ...seek, '-i', info.path, '-frames:v', '1', ...(display ? ['-vf', display] : []), '-f', 'image2pipe', '-vcodec', 'png', '-'];
  const { stdout } = await execFileAsync(mediaTools().ffmpeg, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

/**
 * `data:image/jpeg;base64,...` of the face at `box` in the frame at `timeMs` of `path`, `size` px
 * square (letterboxed, not stretched, where the margin leaves the frame); undefined if the frame
 * cannot be grabbed.
 */
export async function faceThumbnail(path: string, timeMs: number, box: Box, size = THUMBNAIL_SIZE): Promise<string | undefined> {
  const src = await thumbnailSource(path, timeMs);
  if (!src) return undefined;
  const s = src.toFrame;
  const inFrame = { x: box.x * s.x, y: box.y * s.y, width: box.width * s.x, height: box.height * s.y };
  const jpeg = await src.img
    .extract(thumbnailRegion(inFrame, src.width, src.height))
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
