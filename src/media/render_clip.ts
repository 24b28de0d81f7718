/**
 * Renders a short video from a still photo with ffmpeg, slowly panning so faces move between frames.
 * Used by `unmask demo`, the tests and the benchmark: input that exists on any machine where unmask
 * is installed (the photos ship inside the npm package @vladmandic/face-api).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { UnmaskError } from '../util/errors.js';
import { mediaTools } from './tools.js';

const execFileAsync = promisify(execFile);

/** Path of face-api's demo photo `sample<n>.jpg` (n = 1..6; sample1 shows three people). */
export function samplePhoto(n = 1): string {
  const pkg = createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json');
  return join(dirname(pkg), 'demo', `sample${n}.jpg`);
}

export interface RenderClipOptions {
  seconds: number;
  fps: number;
  /** Output width; height follows the photo's aspect (even). Ignored when `height` is set too. */
  width: number;
  /** Force an exact frame height (e.g. 1080), cropping the photo. */
  height?: number;
  /** x264 preset: ultrafast for tests, veryfast for benchmark realism. */
  preset: string;
}

export const DEFAULT_RENDER_OPTIONS: RenderClipOptions = { seconds: 4, fps: 25, width: 1280, preset: 'veryfast' };

export async function renderClipFromPhoto(photo: string, out: string, options: Partial<RenderClipOptions> = {}): Promise<string> {
  const o = { ...DEFAULT_RENDER_OPTIONS, ...options };
  // scale slightly wider than the output, then pan a crop window sideways over time
  const crop = o.height ? `crop=${o.width}:${o.height}:32+32*sin(t):(ih-${o.height})/2` : `crop=${o.width}:ih-mod(ih\\,2):32+32*sin(t):0`;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-loop', '1', '-framerate', String(o.fps), '-t', String(o.seconds), '-i', photo,
    // setsar=1: the scale's rounding to even rows would otherwise leave pixels a hair off square
    '-vf', `scale=${o.width + 64}:-2,${crop},setsar=1,format=yuv420p`,
    '-c:v', 'libx264', '-preset', o.preset, '-crf', '20', out,
  ];
  try {
    await execFileAsync(mediaTools().ffmpeg, args);
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').pop();
    throw new UnmaskError('RENDER_FAILED', `could not render a clip from ${photo}: ${msg}`);
  }
  return out;
}
