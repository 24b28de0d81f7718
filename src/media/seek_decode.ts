/**
 * Decoding far-apart samples by seeking: one short ffmpeg run per sample, which seeks (input `-ss`)
 * to the keyframe before the sample and decodes from there up to it, exactly. A one-pass decode
 * (decode.ts) decodes every frame between two samples, so its cost grows with the video's length;
 * a seek costs at most a keyframe interval of decoding per sample, whatever the length. Measured on
 * 1080p H.264 with a keyframe every 8.3 s (README "Long videos", 32 samples): 1.3x the one-pass
 * decode's time at 3 minutes, 0.6x at 5, 0.2x at 20.
 *
 * Only where seeking is exact and cheap: containers with a seek index (MP4/MOV, Matroska/WebM) and
 * the video stream's start known. Frame n's time is read from the container's packets first (a
 * demux without decoding: 0.33 s for 36,000 frames), so a variable frame rate (many phone
 * recordings) is no obstacle, and neither is a Matroska file whose nominal rate is only the mean. A decoder that
 * starts mid-stream misses what the stream said at its start: for H.264 the x264 version in the first
 * frame, which tells ffmpeg to work around old x264 bugs (FF++'s 4:4:4 videos of x264 core 148 decode
 * with errors after a seek without it), so it is read once and passed on. If a seek still decodes with
 * errors, the remaining samples come from one pass (decode.ts), as they would have without seeking.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { Frame } from '../types.js';
import { NoFramesError } from '../util/errors.js';
import { type DecodeOptions, type DecodeReport, decoderThreads, decodeVideoFrames, frameLayout, stackFilter } from './decode.js';
import type { MediaInfo } from './media_info.js';
import { ffprobeOutput } from './probe.js';
import { framePixels, previewRgb, type StackedLayout, stackedFrameBytes } from './stacked_frame.js';
import { mediaTools } from './tools.js';

const execFileAsync = promisify(execFile);

/**
 * Least distance between consecutive samples, in seconds of video, from which `openFrames` seeks.
 * A seek decodes from the keyframe before its sample, one pass everything between two samples (only
 * reference frames, about half). Encoders put keyframes 1-10 s apart (x264's default: every 250
 * frames); with keyframes 8.3 s apart seeking took 1.07-1.30x the one pass's time at 5.8 s
 * between samples and 0.57-0.70x at 9.7 s (`bench/long_video_bench.ts`, 1080p, 32 samples, two
 * sessions of runs).
 */
export const SEEK_MIN_GAP_S = 10;

/**
 * Samples decoded ahead of the one the caller waits for, each by its own ffmpeg. One: a whole scan of
 * a 20 min 1080p video took 8.2 s with one and 8.9 s with two (2 cores, shared with detection;
 * measured before frame times were read from the packets, which adds the same to both).
 */
const SEEKS_AHEAD = 1;

/** ffprobe's `format_name`s (a comma-separated list each) whose files carry a seek index. */
const INDEXED_CONTAINERS = ['mov', 'mp4', 'matroska', 'webm'];

/** True when a frame number of this video can be reached exactly by seeking. */
export function seekable(info: MediaInfo): boolean {
  const names = (info.container ?? '').split(',');
  return (
    info.kind === 'video' &&
    INDEXED_CONTAINERS.some((c) => names.includes(c)) &&
    info.fps > 0 &&
    info.videoStartS !== undefined
  );
}

/** True when these samples are far enough apart that seeking to each beats one pass over the video. */
export function prefersSeeking(info: MediaInfo, indices: readonly number[]): boolean {
  if (indices.length < 2 || !seekable(info)) return false;
  let gap = Infinity;
  for (let i = 1; i < indices.length; i++) gap = Math.min(gap, indices[i] - indices[i - 1]);
  return gap / info.fps >= SEEK_MIN_GAP_S;
}

/**
 * The `-ss` time of frame `index`, given every frame's time (see {@link frameTimes}): ffmpeg keeps
 * the first frame at or after it. A quarter of the gap to the frame before early, so rounding in
 * timestamps cannot push the wanted frame out; counted from the file's start, as `-ss` is.
 * Undefined when the video has no such frame.
 */
export function seekTime(info: MediaInfo, index: number, times: readonly number[]): number | undefined {
  if (index >= times.length) return undefined;
  const early = index > 0 ? (times[index] - times[index - 1]) / 4 : 0;
  return (info.videoStartS ?? 0) + Math.max(0, times[index] - times[0] - early);
}

/**
 * The presentation time of every frame of the video stream, in seconds on the container's clock,
 * in order (frame n is `times[n]`), from its packets (ffprobe demuxes, nothing is decoded); packets
 * an edit list discards are left out, as the decoder leaves them out. Undefined when unreadable.
 */
export async function frameTimes(info: MediaInfo): Promise<number[] | undefined> {
  const args = ['-v', 'error', '-select_streams', `v:${info.videoStream ?? 0}`, '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', info.path];
  try {
    const stdout = await ffprobeOutput(args, 256 * 1024 * 1024);
    const times: number[] = [];
    for (const line of stdout.split('\n')) {
      const [pts, flags = ''] = line.trim().split(',');
      const t = Number(pts);
      if (pts && Number.isFinite(t) && !flags.includes('D')) times.push(t);
    }
    return times.length ? times.sort((a, b) => a - b) : undefined;
  } catch {
    return undefined;
  }
}


/**
 * The x264 version that encoded an H.264 stream, from the encoder's text in its first frame
 * (`x264 - core 148 r2762 ...`), or undefined (another encoder, another codec, unreadable).
 */
export async function x264Build(info: MediaInfo): Promise<number | undefined> {
  if (info.codec !== 'h264') return undefined;
  const args = ['-v', 'error', '-i', info.path, '-map', `0:v:${info.videoStream ?? 0}`, '-frames:v', '1', '-c:v', 'copy', '-f', 'h264', 'pipe:1'];
  try {
    const { stdout } = await execFileAsync(mediaTools().ffmpeg, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
    const m = /x264 - core (\d+)/.exec(stdout.toString('latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `-x264_build N` for a stream x264 version N encoded, else nothing. */
async function x264BuildArgs(info: MediaInfo): Promise<string[]> {
  const build = await x264Build(info);
  return build === undefined ? [] : ['-x264_build', String(build)];
}

export interface SeekDecodeOptions extends DecodeOptions {
  /** ffmpeg decoder options put before each seek's input. Default: `-x264_build N` when {@link x264Build} finds N. */
  decoderArgs?: string[];
}

/**
 * One sample's ffmpeg run: the stacked frame's bytes (empty when it gave none: past the end), or
 * `failed` when ffmpeg said anything at level error or exited with an error.
 */
interface SampleRun {
  child: ChildProcess | undefined;
  result: Promise<{ data: Buffer; failed: boolean }>;
}

/** `time` undefined: a sample past the last frame, which gives no frame and runs nothing. */
function runSample(info: MediaInfo, time: number | undefined, layout: StackedLayout, decoderArgs: string[], options: DecodeOptions): SampleRun {
  if (time === undefined) return { child: undefined, result: Promise.resolve({ data: Buffer.alloc(0), failed: false }) };
  const bytes = stackedFrameBytes(layout);
  const args = [
    '-hide_banner', '-nostdin', '-nostats', '-v', 'error',
    '-threads', String(decoderThreads(options)),
    ...decoderArgs,
    '-ss', time.toFixed(6),
    '-i', info.path,
    '-an', '-sn', '-dn',
    '-filter_complex', stackFilter(info.videoStream ?? 0, layout),
    '-map', '[out]', '-frames:v', '1', '-pix_fmt', layout.format, '-f', 'rawvideo', 'pipe:1',
  ];
  let child!: ChildProcess;
  const result = new Promise<{ data: Buffer; failed: boolean }>((resolve) => {
    child = execFile(mediaTools().ffmpeg, args, { encoding: 'buffer', maxBuffer: bytes + 1024 }, (err, stdout, stderr) => {
      // a clean seek prints nothing at level error; errors mean the decoder lacked what the stream
      // said before the seek point, or the file is damaged there
      const failed = err !== null || String(stderr ?? '').trim().length > 0;
      resolve({ data: stdout.length === bytes ? stdout : Buffer.alloc(0), failed });
    });
  });
  return { child, result };
}

/**
 * Yields the frames at `indices` (sorted, unique) by seeking to each, exact frame numbers. The next
 * sample is decoded while the caller works on the current one. A sample past the real end (a header
 * that over-counts) gives no frame and is reported; a seek that fails or decodes with errors hands
 * that sample and the rest to one pass (decode.ts), which then decides what is an error. `report`
 * is filled when the generator finishes.
 */
export async function* decodeFramesBySeeking(
  info: MediaInfo,
  indices: number[],
  report: DecodeReport = { requested: 0, decoded: 0 },
  options: SeekDecodeOptions = {},
): AsyncGenerator<Frame> {
  report.requested = indices.length;
  report.decoded = 0;
  report.seeked = true;
  if (indices.length === 0) throw new NoFramesError(info.path, 'the sampling policy selected no frames');
  const layout = frameLayout(info);
  const decoderArgs = options.decoderArgs ?? (await x264BuildArgs(info));
  const times = await frameTimes(info);
  if (!times) {
    // the frames' times cannot be read: no frame number is a known time
    report.seeked = false;
    yield* onePassRest(info, indices, 0, report, options);
    return;
  }
  // runs in flight: the current sample's and the ones decoding ahead of it
  const runs: SampleRun[] = [];
  let started = 0;
  const fill = () => {
    while (started < indices.length && runs.length < 1 + SEEKS_AHEAD) runs.push(runSample(info, seekTime(info, indices[started++], times), layout, decoderArgs, options));
  };
  try {
    for (let k = 0; k < indices.length; k++) {
      fill();
      const { data, failed } = await runs[0].result;
      runs.shift();
      if (failed) {
        // seeking is not exact in this file: this sample and the rest in one pass from the start
        for (const r of runs.splice(0)) if (r.child?.exitCode === null) r.child.kill('SIGKILL');
        report.seeked = false;
        yield* onePassRest(info, indices, k, report, options);
        return;
      }
      fill();
      if (data.length === 0) continue;
      report.decoded++;
      const index = indices[k];
      yield {
        index,
        timeMs: (index / info.fps) * 1000,
        width: info.width,
        height: info.height,
        pixels: framePixels(data, layout, info.colorMatrix),
        preview: previewRgb(data, layout, info.colorMatrix),
      };
    }
  } finally {
    // the consumer stopped early (error, enough frames): the runs decoding ahead are not wanted
    for (const r of runs) if (r.child?.exitCode === null) r.child.kill('SIGKILL');
  }
  if (report.decoded === 0) throw new NoFramesError(info.path, 'every sample lies past the end of the video');
  if (report.decoded < indices.length) report.warning = `decoded ${report.decoded} of ${indices.length} sampled frames (video shorter than its header says)`;
}

/**
 * Samples `from` on, decoded in one pass (decode.ts) and counted into `report` after the frames
 * seeked before them. Running out of frames there is the end of the video, not an error, when
 * seeking already gave frames.
 */
async function* onePassRest(info: MediaInfo, indices: number[], from: number, report: DecodeReport, options: DecodeOptions): AsyncGenerator<Frame> {
  const before = report.decoded;
  const rest: DecodeReport = { requested: 0, decoded: 0 };
  // what follows "decoded X of Y sampled frames" in the pass's warning: ": <ffmpeg's line>" or " (<why>)"
  let detail = '';
  try {
    yield* decodeVideoFrames(info, indices.slice(from), rest, options);
    detail = rest.warning?.replace(/^decoded \d+ of \d+ sampled frames/, '') ?? '';
  } catch (e) {
    if (!(e instanceof NoFramesError) || before === 0) throw e;
    detail = `: ${e.message}`;
  }
  report.decoded = before + rest.decoded;
  report.referenceFramesOnly = rest.referenceFramesOnly;
  if (report.decoded < indices.length) report.warning = `decoded ${report.decoded} of ${indices.length} sampled frames${detail}`;
}
