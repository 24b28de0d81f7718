/**
 * Animated WebP pictures, decoded frame by frame by sharp. ffmpeg (5.x, and the npm fallback 4.1)
 * reads only a WebP's first frame, so without this an animated WebP would be scanned as a still and
 * every later frame silently dropped. sharp (libvips + libwebp) composites each frame as a player
 * shows it. (Animated GIFs stay with ffmpeg, which decodes them as video.) EXIF orientation is not
 * applied to an animation: sharp would turn its frames, stacked as one tall picture, as a whole.
 *
 * One streamed pass over every frame: asking sharp for one page at a time re-decodes the animation
 * from its start for each (32 samples of a 300-frame, 640x448 animation: 27 s against 3 s), and
 * asking for every page at once holds them all in memory (258 MB for that one). The stream keeps
 * only the sampled frames.
 */
import type { Metadata } from 'sharp';
import sharp from 'sharp';
import type { Frame } from '../types.js';
import { NoFramesError, UnreadableMediaError } from '../util/errors.js';
import type { DecodeReport } from './decode.js';
import type { MediaInfo } from './media_info.js';

/**
 * A frame delay at or under this many milliseconds is shown as {@link DEFAULT_DELAY_MS} by browsers
 * (a 0 ms delay would otherwise make the animation last no time at all).
 */
const MIN_DELAY_MS = 10;
export const DEFAULT_DELAY_MS = 100;

/** Start time of each frame (ms) from sharp's per-frame delays, and the animation's duration. */
export function frameTimes(delays: readonly number[] | undefined, pages: number): { startsMs: number[]; durationMs: number } {
  const startsMs: number[] = [];
  let t = 0;
  for (let i = 0; i < pages; i++) {
    startsMs.push(t);
    const d = delays?.[i];
    t += d !== undefined && d > MIN_DELAY_MS ? d : DEFAULT_DELAY_MS;
  }
  return { startsMs, durationMs: t };
}

/** True for what sharp reads as an animated WebP: more than one page. */
export function isAnimatedWebp(meta: Metadata): boolean {
  return meta.format === 'webp' && (meta.pages ?? 1) > 1;
}

/** The probe's description of an animated WebP: a picture with a frame count, rate and duration. */
export function animatedWebpInfo(path: string, meta: Metadata): MediaInfo {
  const pages = meta.pages!;
  const { startsMs, durationMs } = frameTimes(meta.delay, pages);
  return {
    path,
    kind: 'image',
    width: meta.width!,
    // sharp reports one frame's height as pageHeight (height alone is one frame's for WebP too)
    height: meta.pageHeight ?? meta.height!,
    fps: (pages * 1000) / durationMs,
    frameCount: pages,
    frameCountEstimated: false,
    durationMs,
    codec: 'webp',
    colorMatrix: 'bt601',
    pixelFormat: 'rgb24',
    frameTimesMs: startsMs,
  };
}

/**
 * Yields the frames at `indices` (sorted, unique) of an animated picture, in order, as RGB. Stops
 * once the last wanted frame is out. A file that breaks off after some frames yields those and says
 * so in `report.warning`; one that yields none throws NoFramesError (UnreadableMediaError when
 * sharp cannot read it at all).
 */
export async function* decodeAnimatedFrames(info: MediaInfo, indices: readonly number[], report: DecodeReport): AsyncGenerator<Frame> {
  const times = info.frameTimesMs;
  if (!times) throw new Error(`${info.path} is not an animated picture`);
  if (indices.length === 0) throw new NoFramesError(info.path, 'the sampling policy selected no frames');
  report.requested = indices.length;
  const { width, height } = info;
  const frameBytes = width * height * 3;
  const wanted = new Set(indices);
  const last = indices[indices.length - 1];
  const stream = sharp(info.path, { pages: -1 }).removeAlpha().raw();
  let page = 0;
  let filled = 0;
  let frame = Buffer.allocUnsafe(frameBytes);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      for (let off = 0; off < chunk.length; ) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        if (wanted.has(page)) chunk.copy(frame, filled, off, off + n);
        filled += n;
        off += n;
        if (filled < frameBytes) continue;
        if (wanted.has(page)) {
          yield { index: page, timeMs: times[page], width, height, pixels: { format: 'rgb24', width, height, data: frame } };
          report.decoded++;
          frame = Buffer.allocUnsafe(frameBytes);
        }
        if (page === last) return;
        page++;
        filled = 0;
      }
    }
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    if (report.decoded === 0) throw new UnreadableMediaError(info.path, why);
    report.warning = `decoded ${report.decoded} of ${indices.length} sampled frames: ${why}`;
    return;
  } finally {
    stream.destroy();
  }
  if (report.decoded === 0) throw new NoFramesError(info.path, `the animation ended after ${page} of ${info.frameCount} frames`);
  report.warning = `decoded ${report.decoded} of ${indices.length} sampled frames (the animation ended after ${page} of ${info.frameCount} frames)`;
}
