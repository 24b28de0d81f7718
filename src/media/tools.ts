/**
 * Finds ffmpeg and ffprobe. ffmpeg: the system's if on PATH (usually newer, hardware-tuned), else the
 * static binary of the npm package @ffmpeg-installer/ffmpeg. ffprobe: the static binary of
 * @ffprobe-installer/ffprobe first, since a probe is mostly process start-up and the static build
 * starts faster (measured 0.07 s vs 0.22 s for Debian's dynamically linked ffprobe); else the system's.
 * The system's stays the fallback for files the static build crashes on (it segfaults on some
 * MPEG-TS files that Debian's ffprobe reads). Override with UNMASK_FFMPEG / UNMASK_FFPROBE.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ToolMissingError } from '../util/errors.js';

const require = createRequire(import.meta.url);

export interface MediaTools {
  ffmpeg: string;
  ffprobe: string;
  /** The system's ffprobe, when `ffprobe` is another build: retried when `ffprobe` crashes. */
  ffprobeFallback?: string;
  /** ffmpeg's major version; 4.x (the npm binary) lacks `-fps_mode`, so we use `-vsync 0` everywhere. */
  ffmpegMajor: number;
}

let cached: MediaTools | undefined;

function onPath(cmd: string): boolean {
  try {
    execFileSync(cmd, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The path if that binary runs here (the npm package may lack a build for this platform). */
function runnable(path: string | undefined): string | undefined {
  return path && onPath(path) ? path : undefined;
}

function packaged(pkg: string): string | undefined {
  try {
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

function majorVersion(ffmpeg: string): number {
  const out = execFileSync(ffmpeg, ['-version'], { encoding: 'utf8' });
  const m = /version n?(\d+)\./.exec(out);
  return m ? Number(m[1]) : 0;
}

export function mediaTools(): MediaTools {
  if (cached) return cached;
  const ffmpeg =
    process.env.UNMASK_FFMPEG ?? (onPath('ffmpeg') ? 'ffmpeg' : packaged('@ffmpeg-installer/ffmpeg'));
  const ffprobe =
    process.env.UNMASK_FFPROBE ?? (runnable(packaged('@ffprobe-installer/ffprobe')) ?? (onPath('ffprobe') ? 'ffprobe' : undefined));
  if (!ffmpeg) throw new ToolMissingError('ffmpeg not found: install ffmpeg or reinstall unmask\'s dependencies');
  if (!ffprobe) throw new ToolMissingError('ffprobe not found: install ffmpeg or reinstall unmask\'s dependencies');
  const fallback = !process.env.UNMASK_FFPROBE && ffprobe !== 'ffprobe' && onPath('ffprobe') ? 'ffprobe' : undefined;
  cached = { ffmpeg, ffprobe, ...(fallback ? { ffprobeFallback: fallback } : {}), ffmpegMajor: majorVersion(ffmpeg) };
  return cached;
}
