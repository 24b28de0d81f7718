/**
 * Decodes the sampled frames of a video in ONE ffmpeg pass: a `select` filter keeps the wanted frame
 * numbers and raw frames go to pipes (6-12x faster than seeking once per frame). Spread-out samples
 * may let the decoder skip non-reference frames (reference_frames.ts). Still images are decoded by
 * sharp as a one-frame input.
 */
import sharp from 'sharp';
import { execFile, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { type Frame, PREVIEW_SIDE } from '../types.js';
import { NoFramesError, UnreadableMediaError } from '../util/errors.js';
import type { MediaInfo } from './media_info.js';
import { decodeHeifRgb, HEIC_CODEC } from './heif_picture.js';
import { MAX_PICTURE_PIXELS } from './picture_size.js';
import { selectExpression } from './sampling.js';
import { openFifo } from './fifo.js';
import { type RawFrame, readFramesFromFifo, readFramesFromStream } from './frame_reader.js';
import { FfmpegLog } from './ffmpeg_log.js';
import { frameIndexAt, type ReferenceFramePlan, referenceFramePlan, samplesCovered, selectAtOrAfterExpression } from './reference_frames.js';
import { displayChain, isHdr } from './display_chain.js';
import { framePixels, type StackedLayout, stackedFrameBytes } from './stacked_frame.js';
import { mediaTools } from './tools.js';

const execFileAsync = promisify(execFile);

/** Decoded frames buffered ahead of the consumer (about 8 frames of 1080p). */
const MAX_QUEUE_BYTES = 25 * 1024 * 1024;

export interface DecodeOptions {
  /**
   * Reuse each frame's pixel buffer for a later frame once the consumer asks for the next one, so a
   * frame is valid only until then (copy what you keep). Saves allocating ~3 MB per 1080p frame,
   * which costs more CPU than reading it. Default false.
   */
  recycleFrames?: boolean;
  /**
   * How frames travel from ffmpeg: `auto` (a FIFO read with blocking reads where `mkfifo` exists,
   * else a Node stream) or `stream` (always the stream; for tests). Default `auto`.
   */
  transport?: 'auto' | 'stream';
  /** ffmpeg decoder threads. Default: one less than the CPUs (at least 1), so inference keeps a core. */
  decoderThreads?: number;
  /**
   * Let the decoder skip non-reference frames when the video and the samples allow it (H.264/HEVC,
   * constant frame rate, samples at least 4 frames apart; see reference_frames.ts): each sample then
   * becomes the first decoded frame at or after it, and frames carry their true numbers. About half
   * the decoding work. Default false (exact frame numbers); openFrames turns it on for spread-out
   * sampling policies (`uniform`, `fps`) unless they say `exact`.
   */
  skipNonReference?: boolean;
  /**
   * Decode each sample by seeking to it (seek_decode.ts) instead of one pass over the video: `true`
   * whenever the file allows exact seeks, `false` never. Default: when the samples are at least
   * SEEK_MIN_GAP_S apart (long videos), where seeking costs less. Seeked frames are exact.
   */
  seek?: boolean;
}

/** What a decode pass reports after its last frame. */
export interface DecodeReport {
  requested: number;
  decoded: number;
  /**
   * When frames went missing (e.g. a truncated file), how many and ffmpeg's last line; when every
   * frame came but ffmpeg reported damaged data it concealed (e.g. a stream cut inside its last frame), that.
   */
  warning?: string;
  /** True when the pass skipped non-reference frames (samples moved to decoded frames). */
  referenceFramesOnly?: boolean;
  /** True when each sample was decoded by seeking to it (seek_decode.ts). */
  seeked?: boolean;
}

/**
 * Decodes a still image into one RGB frame, honouring EXIF orientation. sharp reads the usual
 * formats in-process; a format it does not know (BMP, for one) ffmpeg decodes, as the probe already
 * found a picture there. A damaged file sharp does know stays an error: ffmpeg would fill a
 * truncated JPEG's missing rows with grey and say nothing.
 */
export async function decodeImage(info: MediaInfo): Promise<Frame> {
  if (info.codec === HEIC_CODEC) return decodeHeifFrame(info);
  // a picture larger than the scan reads whole is read scaled down (picture_size.ts)
  const read = info.readSize;
  let data: Buffer, width: number, height: number;
  try {
    let img = sharp(info.path, { limitInputPixels: MAX_PICTURE_PIXELS }).rotate();
    if (read) img = img.resize(read.width, read.height, { fit: 'fill' });
    const out = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    ({ data } = out);
    ({ width, height } = out.info);
  } catch (e) {
    const sharpError = (e as Error).message.split('\n')[0];
    if (!/unsupported image format/i.test(sharpError)) throw new UnreadableMediaError(info.path, sharpError);
    ({ width, height } = read ?? info);
    data = await decodeImageWithFfmpeg(info, width, height, sharpError);
  }
  return pictureFrame(info, data, width, height);
}

/** A still picture's one frame, of `width` x `height` RGB, with the scale back to the picture's own pixels when it was read smaller. */
function pictureFrame(info: MediaInfo, data: Buffer, width: number, height: number): Frame {
  const toPicture = info.readSize ? { x: info.width / width, y: info.height / height } : undefined;
  return { index: 0, timeMs: 0, width, height, pixels: { format: 'rgb24', width, height, data }, ...(toPicture ? { toPicture } : {}) };
}

/**
 * HEIF decodes of this process, one after another: each holds the whole picture as RGB (libheif
 * cannot decode it smaller) until it is turned into the frame, so two scans at once (`-j 2`) would
 * hold two.
 */
let heifQueue: Promise<unknown> = Promise.resolve();

/** A HEVC-coded HEIF picture (heif_picture.ts) as one RGB frame, scaled down like any picture read smaller. */
async function decodeHeifFrame(info: MediaInfo): Promise<Frame> {
  const turn = heifQueue.then(() => heifToRgb(info));
  heifQueue = turn.catch(() => undefined);
  const { data, width, height } = await turn;
  return pictureFrame(info, data, width, height);
}

/** The picture's RGB pixels at the size it is read at. */
async function heifToRgb(info: MediaInfo): Promise<{ data: Buffer; width: number; height: number }> {
  let rgb: Awaited<ReturnType<typeof decodeHeifRgb>>;
  try {
    rgb = await decodeHeifRgb(info.path);
  } catch (e) {
    throw new UnreadableMediaError(info.path, (e as Error).message.split('\n')[0]);
  }
  if (!info.readSize) return rgb;
  const { data, info: out } = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 }, limitInputPixels: MAX_PICTURE_PIXELS })
    .resize(info.readSize.width, info.readSize.height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: out.width, height: out.height };
}

/**
 * One RGB frame of `width` x `height` (the picture's size, or the smaller one it is read at) from
 * ffmpeg; `why` (sharp's refusal) names the failure if ffmpeg fails too.
 */
async function decodeImageWithFfmpeg(info: MediaInfo, width: number, height: number, why: string): Promise<Buffer> {
  const expected = width * height * 3;
  const scale = width !== info.width || height !== info.height ? ['-vf', `scale=${width}:${height}:flags=lanczos`] : [];
  const args = ['-v', 'error', '-i', info.path, '-frames:v', '1', ...scale, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  try {
    const { stdout } = await execFileAsync(mediaTools().ffmpeg, args, { encoding: 'buffer', maxBuffer: expected + 1024 });
    if (stdout.length === expected) return stdout;
  } catch {
    // fall through: the error names sharp's reason, which says what is wrong with the file
  }
  throw new UnreadableMediaError(info.path, why);
}

/**
 * Size of a frame's detector preview: the longer side scaled to {@link PREVIEW_SIDE}, both sides
 * even (it travels as YUV 4:2:0). None when the frame is not wider than that: the detector then
 * reads the frame itself, which is as small.
 */
export function previewSize(width: number, height: number): { width: number; height: number } | undefined {
  const s = PREVIEW_SIDE / Math.max(width, height);
  const even = (x: number) => Math.max(2, 2 * Math.round((x * s) / 2));
  const p = { width: even(width), height: even(height) };
  return p.width <= width && p.height < height ? p : undefined;
}

/**
 * The filter graph: keep the sampled frames (by number, or with a plan, the first decoded frame at
 * or after each, then showinfo to print its timestamp); when there is a preview, scale a copy of
 * each down (area averaging) and stack it below the frame (see stacked_frame.ts).
 */
export function decodeFilter(indices: number[], layout: StackedLayout, plan?: ReferenceFramePlan, videoStream = 0): string {
  const select = plan ? `select='${selectAtOrAfterExpression(indices, plan)}',showinfo=checksum=0` : `select='${selectExpression(indices)}'`;
  return stackFilter(videoStream, layout, select);
}

/**
 * The video stream `videoStream`, through the filters of `chain` (if any), in the layout's pixel
 * format, with the detector preview stacked below when the layout has one.
 */
export function stackFilter(videoStream: number, layout: StackedLayout, chain?: string): string {
  // the display filters come after the select, so only the sampled frames pay for them
  const filters = [chain, layout.display, `format=${layout.format}`];
  const head = `[0:v:${videoStream}]${filters.filter((f) => f).join(',')}`;
  const p = layout.preview;
  if (!p) return `${head}[out]`;
  return (
    `${head},split=2[full][small];` +
    `[small]scale=${p.width}:${p.height}:flags=area,format=${layout.format},pad=${layout.width}:${p.height}:0:0[strip];` +
    `[full][strip]vstack=inputs=2[out]`
  );
}

/**
 * How a video's frames travel from ffmpeg: limited-range 4:2:0 with even sides and a matrix the crops
 * know stays YUV (stacking needs whole chroma rows); anything else, HDR included, comes as RGB.
 */
export function frameLayout(info: MediaInfo): StackedLayout {
  const { width, height } = info;
  const keepYuv = info.pixelFormat === 'yuv420p' && width % 2 === 0 && height % 2 === 0 && info.colour?.range !== 'pc' && !isHdr(info) && yuvMatrixKnown(info);
  const layout: StackedLayout = { format: keepYuv ? 'yuv420p' : 'rgb24', width, height, preview: previewSize(width, height) };
  const display = displayChain(info);
  return display ? { ...layout, display } : layout;
}

/**
 * Whether the frame's YUV matrix is one the crops convert themselves (BT.601, BT.709, or unstated,
 * read as BT.601); others (BT.2020, ...) come as RGB converted by ffmpeg, which knows them.
 */
function yuvMatrixKnown(info: MediaInfo): boolean {
  return ['bt709', 'bt470bg', 'smpte170m', 'fcc', undefined].includes(info.colour?.space);
}

/** ffmpeg decoder threads: one less than the CPUs (at least 1), unless the caller says. */
export function decoderThreads(options: DecodeOptions): number {
  return options.decoderThreads ?? Math.max(1, availableParallelism() - 1);
}

/**
 * Yields the frames at `indices` (sorted, unique) in order. Stops early if the file ends first
 * (truncated or over-estimated frame count); `report` is filled when the generator finishes.
 * Throws NoFramesError if not a single frame could be decoded.
 *
 * ffmpeg writes each selected frame with a small preview for the face detector stacked below it
 * (scaled by ffmpeg, far cheaper than in Node), on one pipe. The frame stays YUV 4:2:0 when the
 * video is (nearly all footage): no RGB conversion, crops convert only their own pixels. Other
 * layouts (4:4:4, full-range, 10-bit, odd sides) come as RGB converted by ffmpeg, losing nothing.
 */
export async function* decodeVideoFrames(
  info: MediaInfo,
  indices: number[],
  report: DecodeReport = { requested: 0, decoded: 0 },
  options: DecodeOptions = {},
): AsyncGenerator<Frame> {
  report.requested = indices.length;
  report.decoded = 0;
  if (indices.length === 0) throw new NoFramesError(info.path, 'the sampling policy selected no frames');
  const { ffmpeg, ffmpegMajor } = mediaTools();
  const { width, height } = info;
  const layout = frameLayout(info);
  // ffmpeg 4.1 (the npm fallback binary) has no -fps_mode; -vsync 0 passes frames through unchanged.
  const passthrough = ffmpegMajor >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', '0'];
  const plan = options.skipNonReference ? referenceFramePlan(info, indices, ffmpegMajor) : undefined;
  report.referenceFramesOnly = plan !== undefined;
  const log = new FfmpegLog(plan !== undefined);
  const args = [
    '-hide_banner', '-nostdin', '-nostats',
    // showinfo (the frames' timestamps) logs at level info: level tags tell its lines from errors
    ...(plan ? ['-loglevel', 'level+info', '-skip_frame', 'noref'] : ['-v', 'error']),
    // leave one core to inference: measured on 2 cores, 1 decoder thread instead of ffmpeg's default
    // cut a scan's CPU by ~0.1 s and its wall time by ~5% (npm run bench)
    '-threads', String(decoderThreads(options)),
    '-i', info.path,
    '-an', '-sn', '-dn',
    '-filter_complex', decodeFilter(indices, layout, plan, info.videoStream),
    '-map', '[out]', ...passthrough, '-frames:v', String(indices.length), '-pix_fmt', layout.format, '-f', 'rawvideo', 'pipe:1',
  ];
  const maxAhead = Math.max(2, Math.floor(MAX_QUEUE_BYTES / stackedFrameBytes(layout)));
  const fifo = options.transport === 'stream' ? undefined : openFifo();
  const child = spawn(ffmpeg, args, { stdio: ['ignore', fifo ? fifo.write : 'pipe', 'pipe'] });
  if (fifo) closeSync(fifo.write); // ffmpeg holds the only write end: its exit ends the pipe
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => log.push(d));
  const exited = new Promise<number>((resolve) => {
    child.on('error', (e) => (log.addError(e.message), log.end(), resolve(-1)));
    child.on('close', (code) => (log.end(), resolve(code ?? -1)));
  });
  const reader = fifo
    ? readFramesFromFifo(fifo.read, layout, info.colorMatrix, maxAhead)
    : readFramesFromStream(child.stdout!, layout, info.colorMatrix, maxAhead);
  let ended = false;
  let lastIndex = -1;
  let firstFrameTime: number | undefined;
  try {
    for (;;) {
      let raw: RawFrame | undefined;
      try {
        raw = await reader.next();
      } catch (e) {
        throw new UnreadableMediaError(info.path, `decoder failed: ${(e as Error).message}`);
      }
      if (!raw) break;
      let index = indices[report.decoded];
      if (plan) {
        // showinfo printed this frame's timestamp before the frame reached the pipe
        const time = await log.nextFrameTime();
        // the first selected frame is frame 0 (the plan samples it): later times count from it
        if (report.decoded === 0) firstFrameTime = time;
        const fromTime = time === undefined || firstFrameTime === undefined ? undefined : frameIndexAt(time, firstFrameTime, plan);
        // a missing or out-of-order timestamp keeps numbers increasing rather than trusting it
        index = fromTime !== undefined && fromTime > lastIndex ? fromTime : Math.max(lastIndex + 1, indices[Math.min(report.decoded, indices.length - 1)]);
      }
      lastIndex = index;
      report.decoded++;
      yield {
        index,
        timeMs: (index / info.fps) * 1000,
        width,
        height,
        pixels: framePixels(Buffer.from(raw.full), layout, info.colorMatrix),
        preview: raw.preview && { format: 'rgb24', width: layout.preview!.width, height: layout.preview!.height, data: Buffer.from(raw.preview) },
      };
      // the consumer asked for the next frame: this one's buffer may be filled again
      reader.release(raw, options.recycleFrames === true);
    }
    ended = true;
  } finally {
    if (!ended) {
      // the consumer stopped early (error, enough frames): no more frames, ffmpeg is killed
      reader.stop();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
  const code = await exited;
  const lastLine = log.lastError();
  if (report.decoded === 0) {
    if (code !== 0) throw new UnreadableMediaError(info.path, lastLine);
    throw new NoFramesError(info.path, lastLine);
  }
  // on reference frames, two samples may share one decoded frame: missing means past the last frame
  const covered = plan ? samplesCovered(indices, lastIndex) : report.decoded;
  if (covered < indices.length) {
    report.warning = `decoded ${covered} of ${indices.length} sampled frames${lastLine ? `: ${lastLine}` : ' (video shorter than its header says)'}`;
  } else if (log.errorCount() > 0) {
    // every sample came, but the decoder concealed damaged data (a stream cut inside a frame, bit errors)
    report.warning = `the decoder met damaged data (${log.errorCount()} error line(s), last: ${lastLine}): frames may show grey or smeared patches, which can move scores`;
  }
}
