/**
 * Finds ffmpeg and ffprobe. ffmpeg: the system's if on PATH (usually newer, hardware-tuned), else the
 * static binary of the npm package @ffmpeg-installer/ffmpeg. ffprobe: the static binary of
 * @ffprobe-installer/ffprobe first, since a probe is mostly process start-up and the static build
 * starts faster (measured 0.07 s vs 0.22 s for Debian's dynamically linked ffprobe); else the system's.
 * The system's stays the fallback for files the static build crashes on (it segfaults on some
 * MPEG-TS files that Debian's ffprobe reads). Override with UNMASK_FFMPEG / UNMASK_FFPROBE.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
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

/**
 * Whether `cmd` is an executable file in a PATH folder. Looked up, not run: starting Debian's
 * dynamically linked ffmpeg or ffprobe costs about 0.1 s each, and a scan from the CLI paid for
 * three such starts before its first frame (CPU profile of `unmask scan`).
 */
export function onPath(cmd: string, path = process.env.PATH ?? ''): boolean {
  const names = process.platform === 'win32' ? [cmd, `${cmd}.exe`] : [cmd];
  return path.split(delimiter).some((dir) => dir !== '' && names.some((n) => isExecutable(join(dir, n))));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Major version from `<binary> -version`, or undefined when the binary does not run. */
function majorVersion(binary: string): number | undefined {
  let out: string;
  try {
    out = execFileSync(binary, ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
  const m = /version n?(\d+)\./.exec(out);
  return m ? Number(m[1]) : 0;
}

function packaged(pkg: string): string | undefined {
  try {
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

/** ffmpeg and its major version from one start: the override, else PATH's, else the npm package's. */
function findFfmpeg(): { ffmpeg: string; major: number } | undefined {
  const candidates = process.env.UNMASK_FFMPEG
    ? [process.env.UNMASK_FFMPEG]
    : [onPath('ffmpeg') ? 'ffmpeg' : undefined, packaged('@ffmpeg-installer/ffmpeg')];
  for (const ffmpeg of candidates) {
    const major = ffmpeg ? majorVersion(ffmpeg) : undefined;
    if (ffmpeg && major !== undefined) return { ffmpeg, major };
  }
  return undefined;
}

/**
 * ffprobe: the override, else the npm package's static build if it runs here (the package may lack a
 * build for this platform; starting it costs about 0.01 s), else PATH's.
 */
function findFfprobe(): string | undefined {
  if (process.env.UNMASK_FFPROBE) return process.env.UNMASK_FFPROBE;
  const npmProbe = packaged('@ffprobe-installer/ffprobe');
  if (npmProbe && majorVersion(npmProbe) !== undefined) return npmProbe;
  return onPath('ffprobe') ? 'ffprobe' : undefined;
}

export function mediaTools(): MediaTools {
  if (cached) return cached;
  const found = findFfmpeg();
  const ffprobe = findFfprobe();
  if (!found) {
    const override = process.env.UNMASK_FFMPEG;
    throw new ToolMissingError(
      override ? `UNMASK_FFMPEG=${override} does not run as ffmpeg` : 'ffmpeg not found: install ffmpeg or reinstall unmask\'s dependencies',
    );
  }
  if (!ffprobe) throw new ToolMissingError('ffprobe not found: install ffmpeg or reinstall unmask\'s dependencies');
  const fallback = !process.env.UNMASK_FFPROBE && ffprobe !== 'ffprobe' && onPath('ffprobe') ? 'ffprobe' : undefined;
  cached = { ffmpeg: found.ffmpeg, ffprobe, ...(fallback ? { ffprobeFallback: fallback } : {}), ffmpegMajor: found.major };
  return cached;
}

let filters: Set<string> | undefined;

/** Whether the ffmpeg in use has every one of `names` among its filters (`ffmpeg -filters`, asked once). */
export function ffmpegHasFilters(names: string[]): boolean {
  if (!filters) {
    let out = '';
    try {
      out = execFileSync(mediaTools().ffmpeg, ['-hide_banner', '-filters'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // an ffmpeg that cannot list its filters is treated as having none beyond the basics
    }
    // lines like " .SC zscale            V->V       Apply resizing, ..."
    filters = new Set(out.split('\n').map((l) => /^\s*[.A-Z|]{3}\s+(\S+)\s/.exec(l)?.[1]).filter((n): n is string => !!n));
  }
  return names.every((n) => filters!.has(n));
}

