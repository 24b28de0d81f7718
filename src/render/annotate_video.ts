/**
 * `unmask scan --annotate`: the input with every tracked face boxed and labelled with its running
 * P(FAKE), as FTCN's raw-video demo does. Works from a ScanResult and the media path only: every
 * frame is decoded again (ffmpeg raw RGB pipe), the overlays are composited by sharp from small SVGs,
 * and the frames go to ffmpeg's libx264 through stdin at the input's frame rate. Still images are
 * written as an annotated PNG/JPEG/WebP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { extname, resolve } from 'node:path';
import sharp from 'sharp';
import type { MediaInfo } from '../media/media_info.js';
import { displayChain } from '../media/display_chain.js';
import { MAX_PICTURE_PIXELS } from '../media/picture_size.js';
import { probeMedia } from '../media/probe.js';
import { mediaTools } from '../media/tools.js';
import type { ScanResult } from '../pipeline/scan_result.js';
import { escapeHtml } from '../report/html_escape.js';
import { InvalidOptionError, UnmaskError, UnreadableMediaError } from '../util/errors.js';
import { hexColour, TrackOverlayPlan, VERDICT_COLOURS, type TrackOverlay } from './track_overlay.js';

export const VIDEO_OUT_EXTENSIONS = ['.mp4', '.mkv', '.mov'];
export const IMAGE_OUT_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'];

export interface AnnotateResult {
  out: string;
  kind: 'video' | 'image';
  /** Frames written. */
  frames: number;
  width: number;
  height: number;
  fps: number;
}

export class AnnotateError extends UnmaskError {
  constructor(message: string) {
    super('ANNOTATE_FAILED', message);
  }
}

/** Line width of the boxes: at least 4 px so the colour survives 2x2 chroma subsampling. */
function strokeWidth(width: number, height: number): number {
  return Math.max(4, Math.round(Math.min(width, height) / 150));
}

interface Piece {
  input: Buffer;
  left: number;
  top: number;
}

/** One SVG per face (box plus label), cut to the frame, so librsvg renders only the pixels it covers. */
function overlayPiece(o: TrackOverlay, width: number, height: number): Piece | undefined {
  const s = strokeWidth(width, height);
  const fontSize = Math.max(12, Math.round(height / 40));
  const labelH = Math.round(fontSize * 1.4);
  const labelW = Math.round(o.label.length * fontSize * 0.62 + fontSize * 0.6);
  const bx = Math.round(o.box.x), by = Math.round(o.box.y), bw = Math.round(o.box.width), bh = Math.round(o.box.height);
  const lx = Math.max(0, Math.min(bx, width - labelW));
  const ly = by - labelH >= 0 ? by - labelH : Math.max(0, by);
  const left = Math.max(0, Math.min(bx, lx)), top = Math.max(0, Math.min(by, ly));
  const right = Math.min(width, Math.max(bx + bw, lx + labelW)), bottom = Math.min(height, Math.max(by + bh, ly + labelH));
  if (right - left < 1 || bottom - top < 1) return undefined;
  const colour = hexColour(VERDICT_COLOURS[o.verdict]);
  const text = o.verdict === 'FAKE' ? '#ffffff' : '#111111';
  // the stroke lies inside the box, so the box edge pixels carry the verdict colour
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${right - left}" height="${bottom - top}">
<g transform="translate(${-left} ${-top})">
<rect x="${bx + s / 2}" y="${by + s / 2}" width="${Math.max(1, bw - s)}" height="${Math.max(1, bh - s)}" fill="none" stroke="${colour}" stroke-width="${s}"/>
<rect x="${lx}" y="${ly}" width="${labelW}" height="${labelH}" fill="${colour}"/>
<text x="${lx + fontSize * 0.3}" y="${ly + labelH * 0.75}" font-family="DejaVu Sans Mono, Liberation Mono, monospace" font-size="${fontSize}" fill="${text}" xml:space="preserve">${escapeHtml(o.label)}</text>
</g></svg>`;
  return { input: Buffer.from(svg), left, top };
}

/** Draws the overlays onto one packed-RGB frame; returns packed RGB of the same size. */
export async function drawOverlays(rgb: Buffer, width: number, height: number, overlays: TrackOverlay[]): Promise<Buffer> {
  const pieces = overlays.map((o) => overlayPiece(o, width, height)).filter((p): p is Piece => !!p);
  if (!pieces.length) return rgb;
  return sharp(rgb, { raw: { width, height, channels: 3 } }).composite(pieces).removeAlpha().raw().toBuffer();
}

/** Every frame of a video, in decode order (frame n is the n-th, as the scan's sampling counts them). */
async function* decodeAllFrames(info: MediaInfo): AsyncGenerator<Buffer> {
  const { ffmpeg, ffmpegMajor } = mediaTools();
  const display = displayChain(info);
  const child = spawn(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', info.path, '-an', '-sn', '-dn',
      // the frames as the scan saw them (display_chain.ts): its boxes are in display pixels
      ...(display ? ['-vf', display] : []),
      ...(ffmpegMajor >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', '0']),
      '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const frameBytes = info.width * info.height * 3;
  let frame = Buffer.allocUnsafe(frameBytes), filled = 0, count = 0;
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        chunk.copy(frame, filled, off, off + n);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          count++;
          yield frame;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  if (count === 0) throw new UnreadableMediaError(info.path, stderr.trim().split('\n').pop() || 'no frames decoded');
}

interface Encoder {
  write(frame: Buffer): Promise<void>;
  /** Closes stdin and waits for ffmpeg; throws if it failed. */
  finish(): Promise<void>;
  /** Stops ffmpeg (after a decode error); the partial output is left as ffmpeg left it. */
  abort(): void;
}

/** ffmpeg reading raw RGB on stdin: H.264 in yuv420p at the input's rate, the input's audio copied over. */
function startEncoder(info: MediaInfo, out: string): Encoder {
  const { ffmpeg } = mediaTools();
  const evenPad = info.width % 2 || info.height % 2 ? ['-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2'] : [];
  const mp4ish = ['.mp4', '.mov'].includes(extname(out).toLowerCase());
  const child: ChildProcess = spawn(
    ffmpeg,
    ['-hide_banner', '-v', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${info.width}x${info.height}`, '-framerate', String(info.fps), '-i', 'pipe:0',
      '-i', info.path, '-map', '0:v:0', '-map', '1:a?',
      ...evenPad, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
      ...(mp4ish ? ['-movflags', '+faststart'] : []), out],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
  let failed: Error | undefined;
  child.stdin!.on('error', (e) => (failed = e));
  const fail = async () => {
    const code = await exited;
    return new AnnotateError(`ffmpeg could not encode ${out} (exit ${code}): ${stderr.trim().split('\n').pop() ?? failed?.message ?? ''}`);
  };
  return {
    async write(frame) {
      if (failed || child.exitCode !== null) throw await fail();
      if (!child.stdin!.write(frame)) await Promise.race([once(child.stdin!, 'drain'), exited]);
    },
    async finish() {
      child.stdin!.end();
      if ((await exited) !== 0) throw await fail();
    },
    abort() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Rejects an output name no input kind can be written to (checked before a long scan). */
export function checkAnnotateTarget(out: string): void {
  const ext = extname(out).toLowerCase();
  if (![...VIDEO_OUT_EXTENSIONS, ...IMAGE_OUT_EXTENSIONS].includes(ext)) {
    throw new InvalidOptionError(`--annotate: write a video (${VIDEO_OUT_EXTENSIONS.join(', ')}) or an image (${IMAGE_OUT_EXTENSIONS.join(', ')}); got '${out}'`);
  }
}

function checkOut(out: string, allowed: string[], kind: string): void {
  if (!allowed.includes(extname(out).toLowerCase())) {
    throw new InvalidOptionError(`--annotate: the output of ${kind} input must end in ${allowed.join(', ')}; got '${out}'`);
  }
}

/**
 * Writes `out`: the scanned input with its faces boxed. `media` is the scanned file (default
 * `scan.file`). Throws InvalidOptionError for a failed scan or an unsupported output extension.
 */
export async function annotateMedia(scan: ScanResult, out: string, media: string = scan.file): Promise<AnnotateResult> {
  if (scan.status !== 'ok') throw new InvalidOptionError(`cannot annotate ${scan.file}: the scan failed (${scan.error?.message ?? 'unknown error'})`);
  if (resolve(out) === resolve(media)) throw new InvalidOptionError(`--annotate would overwrite its input ${media}`);
  const info = await probeMedia(media);
  if (info.kind === 'image') {
    checkOut(out, IMAGE_OUT_EXTENSIONS, 'an image');
    // drawn on the picture at its own size, where the boxes are (a picture the scan read scaled down too)
    const { data, info: meta } = await sharp(media, { limitInputPixels: MAX_PICTURE_PIXELS }).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const plan = new TrackOverlayPlan(scan, 1);
    const drawn = await drawOverlays(data, meta.width, meta.height, plan.at(0));
    await sharp(drawn, { raw: { width: meta.width, height: meta.height, channels: 3 } }).toFile(out);
    return { out, kind: 'image', frames: 1, width: meta.width, height: meta.height, fps: 0 };
  }
  checkOut(out, VIDEO_OUT_EXTENSIONS, 'a video');
  const plan = new TrackOverlayPlan(scan, info.frameCount);
  const encoder = startEncoder(info, out);
  let n = 0;
  try {
    for await (const rgb of decodeAllFrames(info)) {
      await encoder.write(await drawOverlays(rgb, info.width, info.height, plan.at(n)));
      n++;
    }
  } catch (e) {
    encoder.abort();
    throw e;
  }
  await encoder.finish();
  return { out, kind: 'video', frames: n, width: info.width, height: info.height, fps: info.fps };
}
