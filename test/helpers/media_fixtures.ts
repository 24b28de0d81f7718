/**
 * Test media the suite makes itself: clips rendered by ffmpeg (and animated WebPs by sharp) from a
 * face photo shipped inside the installed npm package @vladmandic/face-api, plus deliberately broken
 * files. Made once per process in a temp folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { mediaTools } from '../../src/media/tools.js';
import { renderClipFromPhoto, samplePhoto } from '../../src/media/render_clip.js';
import { tempDir } from './temp_dir.js';

/** A photo of several people (face-api's demo sample1.jpg, 1920x1280, 3 faces). */
export const facePhoto = samplePhoto;

const dir = tempDir('fixtures');

function ffmpeg(args: string[]): void {
  execFileSync(mediaTools().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function once(name: string, make: (out: string) => void): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  if (!existsSync(out)) make(out);
  return out;
}

/** A clip of `seconds` at 25 fps from a face photo, slowly panning so faces move between frames. */
export async function faceClip(opts: { seconds?: number; width?: number; photo?: number; name?: string } = {}): Promise<string> {
  const { seconds = 2, width = 960, photo = 1 } = opts;
  const out = join(dir, opts.name ?? `face_${photo}_${width}_${seconds}s.mp4`);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(out)) await renderClipFromPhoto(samplePhoto(photo), out, { seconds, width, preset: 'ultrafast' });
  return out;
}

/** A video with no faces (ffmpeg's test pattern). */
export function noFaceClip(): string {
  return once('no_face.mp4', (out) =>
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]),
  );
}

/** A video of exactly one frame. */
export function oneFrameClip(): string {
  return once('one_frame.mp4', (out) =>
    ffmpeg(['-i', facePhoto(1), '-frames:v', '1', '-vf', 'scale=960:-2,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', out]),
  );
}

/**
 * A 1 s clip of the face photo at 640 px in another pixel layout or colour matrix: `yuv444p`
 * (decoded as RGB by ffmpeg), `bt709` (4:2:0 tagged BT.709), or odd-sized 4:2:0 (`odd`, 641x361).
 */
export function layoutClip(kind: 'yuv444p' | 'bt709' | 'odd'): string {
  const vf = { yuv444p: 'scale=640:-2,format=yuv444p', bt709: 'scale=640:-2:out_color_matrix=bt709,format=yuv420p', odd: 'scale=641:361,setsar=1,format=yuv420p' }[kind];
  const tags = kind === 'bt709' ? ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709'] : [];
  // odd sizes need x264 4:4:4-free input with even dims, so the odd clip is stored losslessly as FFV1 in mkv
  const codec = kind === 'odd' ? ['-c:v', 'ffv1'] : ['-c:v', 'libx264', '-preset', 'ultrafast'];
  return once(`layout_${kind}.${kind === 'odd' ? 'mkv' : 'mp4'}`, (out) =>
    ffmpeg(['-loop', '1', '-framerate', '25', '-t', '1', '-i', facePhoto(1), '-vf', vf, ...tags, ...codec, out]),
  );
}

/** A 3840x2160 still (PNG) and a 1-second 4K video of the face photo. */
export function fourKImage(): string {
  return once('4k.png', (out) => ffmpeg(['-i', facePhoto(1), '-vf', 'scale=3840:2160,setsar=1', out]));
}
export function fourKClip(): string {
  return once('4k.mp4', (out) =>
    ffmpeg(['-loop', '1', '-framerate', '25', '-t', '1', '-i', facePhoto(1), '-vf', 'scale=3840:2160,setsar=1,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', out]),
  );
}

/**
 * A 4 s face clip (25 fps, 100 frames) encoded with B-frames, so some frames are non-reference
 * (x264 veryfast: up to 3 B-frames, the middle one a reference). `ts`: MPEG-TS whose audio starts
 * 0.7 s before the video (the container's start is not the video's first frame; the static npm
 * ffprobe crashes on this file, so probing it also exercises the fallback to the system's ffprobe).
 * `hevc` needs ffmpeg's libx265: undefined where it is missing.
 */
export async function bFrameClip(kind: 'mp4' | 'ts' | 'hevc' = 'mp4'): Promise<string | undefined> {
  const src = await faceClip({ seconds: 4, name: 'bframe_src.mp4' });
  const name = { mp4: 'bframes.mp4', ts: 'bframes_audio_first.ts', hevc: 'bframes_hevc.mp4' }[kind];
  try {
    return once(name, (out) => {
      if (kind === 'mp4') ffmpeg(['-i', src, '-c:v', 'libx264', '-preset', 'veryfast', out]);
      else if (kind === 'hevc') ffmpeg(['-i', src, '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', out]);
      else
        ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=5', '-itsoffset', '0.7', '-i', src,
          '-map', '1:v', '-map', '0:a', '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'aac', '-f', 'mpegts', out]);
    });
  } catch {
    if (kind === 'hevc') return undefined;
    throw new Error(`could not make the ${kind} B-frame fixture`);
  }
}

/**
 * The B-frame clip with its video starting 0.7 s after the file's start (an audio track first), in
 * MP4 or Matroska: a seek must count from the file's start, not from the video's first frame.
 */
export async function audioFirstClip(kind: 'mp4' | 'mkv'): Promise<string> {
  const src = (await bFrameClip('mp4'))!;
  return once(`audio_first.${kind}`, (out) =>
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=5', '-itsoffset', '0.7', '-i', src,
      '-map', '1:v', '-map', '0:a', '-c:v', 'copy', '-c:a', 'aac', out]),
  );
}

/** The B-frame clip six times over without re-encoding: 24 s, 600 frames at 25 fps, a keyframe at the start of each copy. */
export async function longClip(): Promise<string> {
  const src = (await bFrameClip('mp4'))!;
  const list = once('long_list.txt', (out) => writeFileSync(out, Array(6).fill(`file '${src}'\n`).join('')));
  return once('long.mp4', (out) => ffmpeg(['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', out]));
}

/**
 * The B-frame clip's picture in 4:4:4 with a keyframe every second (x264 veryfast, High 4:4:4): after
 * a seek, ffmpeg's decoder needs the x264 version that only the first frame states.
 */
export async function clip444(): Promise<string> {
  const src = await faceClip({ seconds: 4, name: 'bframe_src.mp4' });
  return once('keyframes_444.mp4', (out) => ffmpeg(['-i', src, '-vf', 'format=yuv444p', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '25', out]));
}

/**
 * The B-frame clip's picture at a variable frame rate (every 7th frame held 20 ms longer), in MP4
 * (nominal 25 fps, mean 23.4) or Matroska (whose nominal rate is the mean, so it looks constant).
 */
export async function variableRateClip(kind: 'mp4' | 'mkv'): Promise<string> {
  const src = await faceClip({ seconds: 4, name: 'bframe_src.mp4' });
  const mp4 = once('vfr.mp4', (out) =>
    ffmpeg(['-i', src, '-vf', "setpts='(N+floor(N/7)*0.5)/25/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-preset', 'veryfast', '-g', '25', out]),
  );
  return kind === 'mp4' ? mp4 : once('vfr.mkv', (out) => ffmpeg(['-i', mp4, '-c', 'copy', out]));
}

/**
 * The face photo (3:2) as a still 1 s clip shown at 960x640, stored with square pixels (`square`) or
 * anamorphic: `wide` stores 720x640 pixels shown 4:3 wide (HDV-like), `tall` 960x480 pixels shown
 * 3:4 (taller than wide), `tall-rotated` the tall picture stored turned a quarter, with rotation
 * metadata that turns it back.
 */
export function pixelAspectClip(kind: 'square' | 'wide' | 'tall' | 'tall-rotated'): string {
  const vf = {
    square: 'scale=960:640',
    wide: 'scale=720:640,setsar=4/3',
    tall: 'scale=960:480,setsar=3/4',
    // turned clockwise then squeezed: shown (before turning back) 640x960 from 640x720 pixels of 4:3 height
    'tall-rotated': 'transpose=1,scale=640:720,setsar=3/4',
  }[kind];
  return once(`aspect_${kind}.mp4`, (out) => {
    const encoded = kind === 'tall-rotated' ? `${out}.stored.mp4` : out;
    ffmpeg(['-loop', '1', '-i', facePhoto(1), '-t', '1', '-r', '25', '-vf', `${vf},format=yuv420p`, '-c:v', 'libx264', '-preset', 'ultrafast', encoded]);
    if (kind === 'tall-rotated') ffmpeg(['-i', encoded, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out]);
  });
}

/**
 * The square-pixel still clip of {@link pixelAspectClip} as HDR: its BT.709 picture in linear light
 * (SDR white at 203 cd/m², BT.2408's reference white), re-encoded with the HLG or PQ transfer and
 * BT.2020 primaries and matrix, 10-bit 4:2:0, lossless (FFV1 in Matroska, which keeps the colour tags).
 */
export function hdrClip(kind: 'hlg' | 'pq'): string {
  const transfer = kind === 'hlg' ? 'arib-std-b67' : 'smpte2084';
  return once(`hdr_${kind}.mkv`, (out) =>
    ffmpeg(['-i', pixelAspectClip('square'), '-vf',
      'format=gbrp,setparams=color_primaries=bt709:color_trc=bt709:range=pc,zscale=tin=bt709:pin=bt709:rin=pc:t=linear:npl=203,format=gbrpf32le,' +
      `zscale=p=bt2020:t=${transfer}:m=bt2020nc:r=tv:npl=203,format=yuv420p10le`,
      '-color_primaries', 'bt2020', '-color_trc', transfer, '-colorspace', 'bt2020nc', '-color_range', 'tv', '-c:v', 'ffv1', out]),
  );
}

/**
 * The face photo panning fast (up to 300 px/s at 960x640), 1 s: `progressive` at 50 fps, or
 * `interlaced` made from it at 25 frames (50 fields) per second, top field first: frame n weaves
 * the top field of progressive frame 2n with the bottom field of frame 2n+1, 20 ms apart as a
 * camera's fields are, so moving edges are combed.
 */
export function panningClip(kind: 'progressive' | 'interlaced'): string {
  const progressive = once('pan_50p.mp4', (out) =>
    ffmpeg(['-loop', '1', '-framerate', '50', '-t', '1', '-i', facePhoto(1), '-vf',
      'scale=1200:-2,crop=960:640:120+100*sin(3*t):(ih-640)/2,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '10', out]),
  );
  if (kind === 'progressive') return progressive;
  return once('pan_25i.mp4', (out) =>
    ffmpeg(['-i', progressive, '-vf', 'tinterlace=mode=interleave_top,setfield=tff', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '10',
      '-flags', '+ildct+ilme', '-x264opts', 'tff=1', out]),
  );
}

/** The face photo at 260 px wide in the middle of a grey 1280x720 frame, 1 s: three faces of about 25-35 px. */
export function smallFaceClip(): string {
  return once('small_faces.mp4', (out) =>
    ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=1280x720:d=1:r=25', '-i', facePhoto(1), '-filter_complex',
      '[1:v]scale=260:-2[f];[0:v][f]overlay=(W-w)/2:(H-h)/2,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', out]),
  );
}

/**
 * Face photo `photo` turned clockwise by `turns` quarter turns with no orientation tag (a picture
 * stored sideways or upside down), as a JPEG; `video`: a 1 s clip of it, as a video stored sideways
 * without rotation metadata.
 */
export function turnedFaces(photo: number, turns: 0 | 1 | 2 | 3, kind: 'picture' | 'video'): string {
  const vf = ['scale=960:-2', ...[[], ['transpose=clock'], ['hflip', 'vflip'], ['transpose=cclock']][turns], 'format=yuv420p'].join(',');
  if (kind === 'picture') return once(`turned_${photo}_${turns}.jpg`, (out) => ffmpeg(['-i', facePhoto(photo), '-vf', vf, '-q:v', '2', out]));
  return once(`turned_${photo}_${turns}.mp4`, (out) =>
    ffmpeg(['-loop', '1', '-framerate', '25', '-t', '1', '-i', facePhoto(photo), '-vf', vf, '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', out]),
  );
}

export function emptyFile(): string {
  return once('empty.mp4', (out) => writeFileSync(out, ''));
}

export function textAsMp4(): string {
  return once('notes.mp4', (out) => writeFileSync(out, 'this is a text file, not a video\n'.repeat(20)));
}

/** A text file with an image extension. */
export function textAsBmp(): string {
  return once('notes.bmp', (out) => writeFileSync(out, 'x\n'));
}

/** The face photo as a BMP (sharp cannot read BMP; ffmpeg can) or a TIFF (sharp reads it). */
export function facePhotoAs(ext: 'bmp' | 'tiff'): string {
  return once(`face_photo.${ext}`, (out) => ffmpeg(['-i', facePhoto(), out]));
}

/** A TIFF of two pages, face photos 1 and 2 at 640x400 (sharp writes the pages). */
export async function twoPageTiff(): Promise<string> {
  return onceAsync('two_pages.tif', async (out) => {
    const pages = await Promise.all([1, 2].map((n) => sharp(facePhoto(n)).resize(640, 400).toBuffer()));
    await sharp(pages, { join: { animated: true } }).tiff().toFile(out);
  });
}

/** The face photo (1920x1280) stretched to 6300x4200: 26 megapixels, more than a scan reads whole. */
export async function bigFacePhoto(): Promise<string> {
  return onceAsync('big_face_photo.jpg', async (out) => {
    await sharp(facePhoto()).resize(6300, 4200, { fit: 'fill' }).jpeg({ quality: 85 }).toFile(out);
  });
}

/**
 * A PNG of a few dozen bytes whose header declares a `width` x `height` RGB picture (its pixel data
 * is 16 bytes): what a decompression bomb's header says.
 */
export function pngDeclaring(width: number, height: number): string {
  return once(`declares_${width}x${height}.png`, (out) => {
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      return Buffer.concat([len, body, crc]);
    };
    const header = Buffer.alloc(13);
    header.writeUInt32BE(width, 0);
    header.writeUInt32BE(height, 4);
    header[8] = 8; // bit depth
    header[9] = 2; // RGB
    writeFileSync(out, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]));
  });
}

/** A copy of `path` under another name (a video named like a picture, say). */
export function copyAs(path: string, name: string): string {
  return once(name, (out) => writeFileSync(out, readFileSync(path)));
}

/**
 * The face photo as an iPhone-style HEIC (HEVC in HEIF), made by libheif's `heif-enc` (Debian's
 * libheif-examples); undefined where that tool is missing.
 */
export function heicPhoto(): string | undefined {
  const tool = spawnSync('heif-enc', ['--help'], { stdio: 'ignore' });
  if (tool.error) return undefined;
  return once('face_photo.heic', (out) => execFileSync('heif-enc', ['-q', '90', '-o', out, facePhoto()], { stdio: 'ignore' }));
}

/** The face photo's first 40% of bytes: a JPEG that ends early. */
export function truncatedJpeg(): string {
  return once('truncated.jpg', (out) => {
    const bytes = readFileSync(facePhoto());
    writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * 0.4)));
  });
}

/** An MP3 whose only picture is its cover (album art of a face photo): audio, not a video. */
export function audioWithCover(): string {
  return once('song_with_cover.mp3', (out) =>
    ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-i', facePhoto(), '-map', '0', '-map', '1',
      '-c:a', 'libmp3lame', '-c:v', 'mjpeg', '-disposition:v', 'attached_pic', out]));
}

/** An audio-only file with a video extension. */
export function audioOnly(): string {
  return once('audio_only.mp4', (out) => ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', out]));
}

/** The first 30% of a face clip's bytes (moov atom at the end is lost: unreadable header). */
export async function truncatedMp4(): Promise<string> {
  const clip = await faceClip();
  return once('truncated.mp4', (out) => {
    const full = readFileSync(clip);
    writeFileSync(out, full.subarray(0, Math.floor(full.length * 0.3)));
  });
}

/** A clip with its index up front (faststart) cut at 60%: the header promises more frames than exist. */
export async function truncatedFaststartMp4(): Promise<string> {
  const clip = await faceClip();
  return once('truncated_faststart.mp4', (out) => {
    const src = join(dir, 'faststart_full.mp4');
    ffmpeg(['-i', clip, '-c', 'copy', '-movflags', '+faststart', src]);
    const full = readFileSync(src);
    writeFileSync(out, full.subarray(0, Math.floor(full.length * 0.6)));
  });
}

/**
 * Inputs whose container states neither a frame count nor a duration: the default face clip
 * (2 s, 25 fps, 50 frames) remuxed to a raw H.264 stream, or its first 12 frames as an animated PNG at 720 px.
 */
export async function headerlessClip(kind: 'h264' | 'apng'): Promise<string> {
  const clip = await faceClip();
  return kind === 'h264'
    ? once('raw_stream.h264', (out) => ffmpeg(['-i', clip, '-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', out]))
    : once('animated.apng', (out) => ffmpeg(['-i', clip, '-frames:v', '12', '-vf', 'scale=720:-2', '-plays', '0', '-f', 'apng', out]));
}

/**
 * The raw stream of {@link headerlessClip}('h264') cut in the middle of its first frame (a key frame,
 * the largest), as a download that stopped early: ffmpeg decodes what there is and conceals the rest.
 */
export async function streamCutInsideFrame(): Promise<string> {
  const raw = await headerlessClip('h264');
  return once('cut_inside_frame.h264', (out) => {
    const first = execFileSync(mediaTools().ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pos,size', '-read_intervals', '%+#1', '-of', 'default=nw=1', raw], { encoding: 'utf8' });
    // ffprobe prints the fields in its own order: read them by name
    const field = (name: string) => Number(new RegExp(`^${name}=(\\d+)$`, 'm').exec(first)![1]);
    const pos = field('pos'), size = field('size');
    writeFileSync(out, readFileSync(raw).subarray(0, pos + Math.floor(size / 2)));
  });
}

async function onceAsync(name: string, make: (out: string) => Promise<void>): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  if (!existsSync(out)) await make(out);
  return out;
}

/** Frame colours of {@link animatedWebp}('colours'), in frame order. */
export const ANIMATION_COLOURS: readonly (readonly [number, number, number])[] = [0, 1, 2, 3, 4, 5].map((i) => [i * 40, 255 - i * 40, 100] as const);
/** Frame delays (ms) of {@link animatedWebp}('colours'): the 0 ms one plays as 100 ms, as in browsers. */
export const ANIMATION_DELAYS = [40, 0, 80, 40, 40, 40];

/**
 * Animated WebPs made by sharp. `colours`: six 64x48 frames, each one solid colour
 * ({@link ANIMATION_COLOURS}), lossless, with {@link ANIMATION_DELAYS}. `faces`: six 1024x682 frames
 * panning across the face photo (three people), 100 ms each. `truncated`: `faces` cut at 60% of its bytes.
 */
export async function animatedWebp(kind: 'colours' | 'faces' | 'truncated'): Promise<string> {
  if (kind === 'truncated') {
    const full = await animatedWebp('faces');
    return onceAsync('animated_truncated.webp', async (out) => {
      const bytes = readFileSync(full);
      writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    });
  }
  if (kind === 'colours') {
    return onceAsync('animated_colours.webp', async (out) => {
      const w = 64, h = 48, frame = w * h * 3;
      const raw = Buffer.alloc(frame * ANIMATION_COLOURS.length);
      ANIMATION_COLOURS.forEach((c, i) => {
        for (let p = i * frame; p < (i + 1) * frame; p += 3) raw.set(c, p);
      });
      await sharp(raw, { raw: { width: w, height: h * ANIMATION_COLOURS.length, channels: 3, pageHeight: h } })
        .webp({ lossless: true, delay: ANIMATION_DELAYS, loop: 0 })
        .toFile(out);
    });
  }
  return onceAsync('animated_faces.webp', async (out) => {
    const photo = await sharp(facePhoto()).resize(1100).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const w = 1024, h = 682, n = 6;
    const frames = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        sharp(photo.data, { raw: { width: photo.info.width, height: photo.info.height, channels: 3 } })
          .extract({ left: i * 12, top: 0, width: w, height: h })
          .raw()
          .toBuffer(),
      ),
    );
    await sharp(Buffer.concat(frames), { raw: { width: w, height: h * n, channels: 3, pageHeight: h } })
      .webp({ quality: 90, delay: Array(n).fill(100), loop: 0 })
      .toFile(out);
  });
}

export const fixturesDir = dir;
