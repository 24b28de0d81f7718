/**
 * What the benchmarks share: the 10 s 1080p clip of three people they time (rendered once from a
 * photo shipped in an npm package), ffmpeg's decode of a file to null as the yardstick, CPU time from
 * /proc, and the median.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderClipFromPhoto, samplePhoto } from '../src/media/render_clip.js';
import { mediaTools } from '../src/media/tools.js';

/** Where the benchmarks keep their clips. */
export const BENCH_DIR = join(tmpdir(), 'unmask-bench');

/** The benchmark clip (1920x1080, 30 fps, 10 s, x264 veryfast), rendered on first use. */
export async function benchClip(): Promise<string> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const out = join(BENCH_DIR, 'faces_1080p_10s.mp4');
  if (!existsSync(out)) await renderClipFromPhoto(samplePhoto(1), out, { seconds: 10, fps: 30, width: 1920, height: 1080, preset: 'veryfast' });
  return out;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * CPU seconds used so far by this process and by its finished children (ffmpeg, ffprobe), from
 * /proc (Linux). CPU time barely changes when other programs load the machine, unlike wall time.
 */
export function cpuSeconds(): { self: number; children: number } | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14-17 of stat (utime, stime, cutime, cstime) are 11-14 after the command name
    const tick = 100;
    return { self: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
  } catch {
    return undefined;
  }
}
export const cpuTotal = (c: ReturnType<typeof cpuSeconds>) => (c ? c.self + c.children : NaN);

/** ffmpeg decoding every frame of `path` to null: wall seconds and CPU seconds. */
export function decodeToNull(path: string): { wall: number; cpu: number } {
  const c0 = cpuSeconds();
  const t = performance.now();
  const r = spawnSync(mediaTools().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-i', path, '-an', '-f', 'null', '-'], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('ffmpeg decode to null failed');
  return { wall: (performance.now() - t) / 1000, cpu: cpuTotal(cpuSeconds()) - cpuTotal(c0) };
}
