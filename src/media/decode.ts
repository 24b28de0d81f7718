/**
 * Decodes the sampled frames of a video in ONE ffmpeg pass: a `select` filter keeps the wanted frame
 * numbers and raw frames go to pipes (6-12x faster than seeking once per frame). Still images are
 * decoded by sharp as a one-frame input.
 */
import sharp from 'sharp';
import { Worker } from 'node:worker_threads';
import { yuv420Bytes } from '../image/yuv.js';
import { type Frame, PREVIEW_SIDE } from '../types.js';
import { NoFramesError, UnreadableMediaError } from '../util/errors.js';
import type { MediaInfo } from './media_info.js';
import { selectExpression } from './sampling.js';
import type { DecodeJob, MainMessage, WorkerMessage } from './decode_worker.js';
import { mediaTools } from './tools.js';

/** Decoded frames buffered ahead of the consumer (about 8 frames of 1080p). */
const MAX_QUEUE_BYTES = 25 * 1024 * 1024;

/** What a decode pass reports after its last frame. */
export interface DecodeReport {
  requested: number;
  decoded: number;
  /** Last line ffmpeg printed on stderr when frames went missing (e.g. a truncated file). */
  warning?: string;
}

/** Decodes a still image into one RGB frame, honouring EXIF orientation. */
export async function decodeImage(info: MediaInfo): Promise<Frame> {
  try {
    const { data, info: meta } = await sharp(info.path).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { index: 0, timeMs: 0, width: meta.width, height: meta.height, pixels: { format: 'rgb24', width: meta.width, height: meta.height, data } };
  } catch (e) {
    throw new UnreadableMediaError(info.path, (e as Error).message.split('\n')[0]);
  }
}

/** Size of a frame's detector preview: the longer side scaled to {@link PREVIEW_SIDE}. */
export function previewSize(width: number, height: number): { width: number; height: number } {
  const s = PREVIEW_SIDE / Math.max(width, height);
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/**
 * Yields the frames at `indices` (sorted, unique) in order. Stops early if the file ends first
 * (truncated or over-estimated frame count); `report` is filled when the generator finishes.
 * Throws NoFramesError if not a single frame could be decoded.
 *
 * ffmpeg writes two streams per selected frame: the full frame on stdout and a small RGB preview for
 * the face detector on fd 3 (scaled by ffmpeg, far cheaper than in Node). The full frame stays
 * YUV 4:2:0 when the video is (nearly all footage): no RGB conversion, crops convert only their own
 * pixels. Other layouts (4:4:4, full-range, 10-bit) come as RGB converted by ffmpeg, losing nothing.
 */
export async function* decodeVideoFrames(
  info: MediaInfo,
  indices: number[],
  report: DecodeReport = { requested: 0, decoded: 0 },
): AsyncGenerator<Frame> {
  report.requested = indices.length;
  report.decoded = 0;
  if (indices.length === 0) throw new NoFramesError(info.path, 'the sampling policy selected no frames');
  const { ffmpeg, ffmpegMajor } = mediaTools();
  const { width, height } = info;
  const preview = previewSize(width, height);
  const keepYuv = info.pixelFormat === 'yuv420p';
  // ffmpeg 4.1 (the npm fallback binary) has no -fps_mode; -vsync 0 passes frames through unchanged.
  const passthrough = ffmpegMajor >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', '0'];
  const frames = ['-frames:v', String(indices.length)];
  const args = [
    '-hide_banner', '-nostdin', '-v', 'error',
    '-i', info.path,
    '-an', '-sn', '-dn',
    '-filter_complex',
    `[0:v:0]select='${selectExpression(indices)}',split=2[full][small];` +
      `[small]scale=${preview.width}:${preview.height}:flags=area,format=rgb24[preview]`,
    '-map', '[full]', ...passthrough, ...frames, '-pix_fmt', keepYuv ? 'yuv420p' : 'rgb24', '-f', 'rawvideo', 'pipe:1',
    '-map', '[preview]', ...passthrough, ...frames, '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:3',
  ];
  const fullBytes = keepYuv ? yuv420Bytes(width, height) : width * height * 3;
  const job: DecodeJob = {
    ffmpeg,
    args,
    fullBytes,
    previewBytes: preview.width * preview.height * 3,
    maxAhead: Math.max(2, Math.floor(MAX_QUEUE_BYTES / fullBytes)),
  };
  // ffmpeg's pipes are drained by a worker thread so decoding never waits for inference (see decode_worker.ts)
  const worker = new Worker(new URL('./decode_worker.js', import.meta.url), { workerData: job });
  const inbox: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  const deliver = (m: WorkerMessage) => {
    inbox.push(m);
    const w = wake;
    wake = undefined;
    w?.();
  };
  worker.on('message', deliver);
  worker.on('error', (e) => deliver({ kind: 'error', message: e.message }));
  worker.on('exit', () => deliver({ kind: 'done', code: -1, stderr: '' }));
  let done: { code: number; stderr: string } | undefined;
  try {
    while (!done) {
      if (inbox.length === 0) {
        await new Promise<void>((res) => (wake = res));
        continue;
      }
      const m = inbox.shift()!;
      if (m.kind === 'error') throw new UnreadableMediaError(info.path, `decoder failed: ${m.message}`);
      if (m.kind === 'done') {
        done = m;
        break;
      }
      worker.postMessage({ kind: 'consumed' } satisfies MainMessage);
      const index = indices[report.decoded];
      report.decoded++;
      const data = Buffer.from(m.full);
      yield {
        index,
        timeMs: (index / info.fps) * 1000,
        width,
        height,
        pixels: keepYuv
          ? { format: 'yuv420p', width, height, data, matrix: info.colorMatrix }
          : { format: 'rgb24', width, height, data },
        preview: { format: 'rgb24', width: preview.width, height: preview.height, data: Buffer.from(m.preview) },
      };
    }
  } finally {
    // the consumer may stop early (error, enough frames): ffmpeg is killed, the thread ends with it
    if (!done) worker.postMessage({ kind: 'stop' } satisfies MainMessage);
  }
  const { code, stderr } = done;
  const lastLine = stderr.trim().split('\n').filter(Boolean).pop();
  if (report.decoded === 0) {
    if (code !== 0) throw new UnreadableMediaError(info.path, lastLine);
    throw new NoFramesError(info.path, lastLine);
  }
  if (report.decoded < indices.length) {
    report.warning = `decoded ${report.decoded} of ${indices.length} sampled frames${lastLine ? `: ${lastLine}` : ' (video shorter than its header says)'}`;
  }
}
