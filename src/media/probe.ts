/** Probes a file with ffprobe and turns every failure into a typed, one-line error. */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { promisify } from 'node:util';
import sharp, { type Metadata } from 'sharp';
import { animatedWebpInfo, isAnimatedWebp } from './animated_picture.js';
import {
  EmptyFileError,
  InputNotFoundError,
  NoFramesError,
  NoVideoStreamError,
  UnreadableMediaError,
} from '../util/errors.js';
import { matrixForColorSpace } from '../image/yuv.js';
import type { MediaInfo } from './media_info.js';
import { displaySize, parsePixelAspect } from './pixel_aspect.js';
import { HEIC_CODEC, heifPictureSize, isHevcHeif } from './heif_picture.js';
import { pictureReadSize } from './picture_size.js';
import { mediaTools } from './tools.js';

const execFileAsync = promisify(execFile);

/** Extensions scanned as still images (one frame). */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jfif', '.png', '.webp', '.bmp', '.tif', '.tiff', '.avif', '.heic', '.heif']);
const IMAGE_CODECS = new Set(['mjpeg', 'png', 'webp', 'bmp', 'jpegls', 'tiff']);

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  color_space?: string;
  color_transfer?: string;
  color_primaries?: string;
  color_range?: string;
  /** `progressive`, or for interlaced video which field comes first: `tt`, `bb`, `tb`, `bt`. */
  field_order?: string;
  pix_fmt?: string;
  /** Stored pixel shape, `"4:3"` (anamorphic), `"1:1"`, or `"0:1"` when unknown. */
  sample_aspect_ratio?: string;
  duration?: string;
  start_time?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
  /** attached_pic = 1 marks a cover picture (an MP3's album art, say), not the media's picture. */
  disposition?: { attached_pic?: number };
}
interface ProbeJson {
  streams?: ProbeStream[];
  format?: { duration?: string; format_name?: string; start_time?: string };
}

function parseRate(r: string | undefined): number {
  if (!r) return 0;
  const [n, d] = r.split('/').map(Number);
  if (!d) return n || 0;
  return n / d;
}

/** Seconds from the file's start to its video stream's first frame, when both are known. */
function startOffset(stream: string | undefined, format: string | undefined): number | undefined {
  const v = Number(stream ?? NaN), f = Number(format ?? NaN);
  return Number.isFinite(v) && Number.isFinite(f) ? Math.max(0, v - f) : undefined;
}

/** ffprobe's field orders of interlaced video (either field first, coded either way). */
const INTERLACED_FIELD_ORDERS = new Set(['tt', 'bb', 'tb', 'bt']);

/** The stated colour tags (ffprobe says `unknown` or nothing for the others). */
function colourTags(s: ProbeStream): NonNullable<MediaInfo['colour']> {
  const stated = (v: string | undefined) => (v && v !== 'unknown' && v !== 'unspecified' ? v : undefined);
  const tags = { transfer: stated(s.color_transfer), primaries: stated(s.color_primaries), space: stated(s.color_space), range: stated(s.color_range) };
  return Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== undefined));
}

function rotationOf(s: ProbeStream): number {
  const side = s.side_data_list?.find((x) => typeof x.rotation === 'number')?.rotation;
  const tag = s.tags?.rotate !== undefined ? Number(s.tags.rotate) : undefined;
  return Math.abs(Math.round(side ?? tag ?? 0)) % 180;
}

/**
 * Still images are probed by sharp in-process: spawning ffprobe costs ~0.5 s per file, which
 * dominates extraction over thousands of face photos. Returns undefined if sharp cannot read it.
 */
async function probeImage(path: string): Promise<MediaInfo | undefined> {
  let m: Metadata;
  try {
    // the header only: the size limit is picture_size.ts's, checked below with a clear error
    m = await sharp(path, { limitInputPixels: false }).metadata();
  } catch {
    return undefined;
  }
  if (!m.width || !m.height) return undefined;
  if (isAnimatedWebp(m)) return animatedWebpInfo(path, m);
  if (isHevcHeif(m)) return heifInfo(path);
  // EXIF orientations 5-8 are rotated by 90 degrees; decodeImage applies them
  const rotated = (m.orientation ?? 1) >= 5;
  const width = rotated ? m.height : m.width, height = rotated ? m.width : m.height;
  return {
    ...stillPictureInfo(path, width, height, m.format ?? 'unknown'),
    ...((m.pages ?? 1) > 1 ? { pages: m.pages } : {}),
  };
}

/** A HEVC-coded HEIF picture (an iPhone's .heic): its size as shown, from libheif (heif_picture.ts). */
async function heifInfo(path: string): Promise<MediaInfo> {
  let size: Awaited<ReturnType<typeof heifPictureSize>>;
  try {
    size = await heifPictureSize(path);
  } catch (e) {
    throw new UnreadableMediaError(path, (e as Error).message.split('\n')[0]);
  }
  return { ...stillPictureInfo(path, size.width, size.height, HEIC_CODEC), ...(size.images > 1 ? { pages: size.images } : {}) };
}

/**
 * A still picture's info, with the size it is read at when that is smaller (picture_size.ts).
 * @throws PictureTooLargeError for a picture over the size unmask reads.
 */
function stillPictureInfo(path: string, width: number, height: number, codec: string): MediaInfo {
  const readSize = pictureReadSize(path, width, height);
  return {
    path, kind: 'image', width, height, fps: 1, frameCount: 1, frameCountEstimated: false, durationMs: 0, codec,
    colorMatrix: 'bt601', pixelFormat: 'rgb24', ...(readSize ? { readSize } : {}),
  };
}

/**
 * ffprobe's stdout for `args`. If the static npm build crashes (killed by a signal: not an answer
 * about the file), the system's ffprobe is asked instead when there is one.
 */
export async function ffprobeOutput(args: string[], maxBuffer = 16 * 1024 * 1024): Promise<string> {
  const { ffprobe, ffprobeFallback } = mediaTools();
  const run = async (bin: string) => (await execFileAsync(bin, args, { maxBuffer })).stdout;
  try {
    return await run(ffprobe);
  } catch (e) {
    if (!ffprobeFallback || !(e as { signal?: string }).signal) throw e;
    return await run(ffprobeFallback);
  }
}

/**
 * Packets of video stream `stream`, read without decoding (ffprobe -count_packets reads the whole
 * file once: 0.1 s wall, process start included, for the demo clip as a 4 s raw H.264 stream). For
 * inputs whose container states neither a frame count nor a duration. 0 when ffprobe cannot count them.
 */
async function countPackets(path: string, stream: number): Promise<number> {
  try {
    const out = await ffprobeOutput(['-v', 'error', '-select_streams', `v:${stream}`, '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path]);
    const n = Number.parseInt(out.trim(), 10);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

export async function probeMedia(path: string): Promise<MediaInfo> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new UnreadableMediaError(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof UnreadableMediaError) throw e;
    throw new InputNotFoundError(path);
  }
  if (size === 0) throw new EmptyFileError(path);
  if (IMAGE_EXTENSIONS.has(extname(path).toLowerCase())) {
    const image = await probeImage(path);
    if (image) return image;
  }

  let json: ProbeJson;
  mediaTools(); // a missing tool is its own error, not the file's
  try {
    json = JSON.parse(await ffprobeOutput(['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', path])) as ProbeJson;
  } catch (e) {
    // ffprobe prefixes its message with the path (which may hold a newline), and the error already names it
    const last = String((e as { stderr?: string }).stderr ?? '').replaceAll(`${path}: `, '').trim().split('\n').pop() ?? '';
    throw new UnreadableMediaError(path, last || undefined);
  }
  const streams = json.streams ?? [];
  const videos = streams.filter((s) => s.codec_type === 'video');
  const video = videos.find((s) => (s.width ?? 0) > 0 && !s.disposition?.attached_pic);
  if (!video) {
    if (streams.length === 0) throw new UnreadableMediaError(path, 'no streams');
    // only a cover picture: an audio file with album art, whose picture is not the media
    if (videos.some((s) => s.disposition?.attached_pic)) throw new NoVideoStreamError(path);
    // a picture stream without a size: a damaged file, or text named like an image
    if (videos.length) throw new UnreadableMediaError(path, 'its picture has no size');
    throw new NoVideoStreamError(path);
  }
  const codec = video.codec_name ?? 'unknown';
  // a picture by its content: a still-picture codec, in a picture's container or under a picture's
  // name (a video named .jpg is still a video, and an image named .mp4 still a picture)
  const isImage = IMAGE_CODECS.has(codec) && ((json.format?.format_name ?? '').includes('pipe') || IMAGE_EXTENSIONS.has(extname(path).toLowerCase()));
  const rotated = rotationOf(video) === 90;
  const colorMatrix = matrixForColorSpace(video.color_space);
  // pictures are decoded as stored (sharp knows no pixel aspect); videos are shown with square pixels
  const pixelAspect = isImage ? undefined : parsePixelAspect(video.sample_aspect_ratio);
  const { width, height } = displaySize(video.width!, video.height!, pixelAspect, rotated);
  if (isImage) return { ...stillPictureInfo(path, width, height, codec), colorMatrix };
  const avgRate = parseRate(video.avg_frame_rate);
  const nominalRate = parseRate(video.r_frame_rate);
  const fps = avgRate || nominalRate;
  const durationS = Number(video.duration ?? json.format?.duration ?? NaN);
  const nb = Number(video.nb_frames ?? NaN);
  let frameCount: number;
  let estimated = false;
  if (Number.isFinite(nb) && nb > 0) frameCount = nb;
  else if (Number.isFinite(durationS) && fps > 0) {
    frameCount = Math.max(1, Math.round(durationS * fps));
    estimated = true;
  } else {
    // no header says (a raw H.264/HEVC stream, an animated PNG): count the stream's packets, one per frame
    frameCount = await countPackets(path, videos.indexOf(video));
    if (frameCount === 0) throw new NoFramesError(path, 'the video stream holds no frames');
  }
  return {
    path,
    kind: 'video',
    width,
    height,
    fps: fps || 25,
    frameCount,
    frameCountEstimated: estimated,
    durationMs: Number.isFinite(durationS) ? durationS * 1000 : (frameCount / (fps || 25)) * 1000,
    codec,
    colorMatrix,
    pixelFormat: video.pix_fmt ?? 'unknown',
    constantFrameRate: avgRate > 0 && nominalRate > 0 && Math.abs(avgRate - nominalRate) <= 1e-3 * nominalRate,
    videoStream: videos.indexOf(video),
    container: json.format?.format_name,
    videoStartS: startOffset(video.start_time, json.format?.start_time),
    ...(pixelAspect !== undefined ? { pixelAspect } : {}),
    colour: colourTags(video),
    ...(INTERLACED_FIELD_ORDERS.has(video.field_order ?? '') ? { interlaced: true } : {}),
  };
}
