/**
 * Long-video benchmark (prints figures; not a test): how sampling a long video costs when each sample
 * is reached by seeking (src/media/seek_decode.ts) against one pass over the whole video. The video
 * is the scan benchmark's 10 s 1080p clip joined to itself without re-encoding (a keyframe every
 * 8.3 s, x264's default interval), so it costs seconds to make.
 *
 *   node dist/bench/long_video_bench.js [--minutes 5 20] [--runs 3] [--sample uniform:32]
 *
 * For each length: decode to null, the one-pass sampled decode, the seeking decode (medians, run
 * alternately), and which one `openFrames` picks by itself.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openFrames } from '../src/media/frame_source.js';
import { parseSampling } from '../src/media/sampling.js';
import { prefersSeeking } from '../src/media/seek_decode.js';
import { mediaTools } from '../src/media/tools.js';
import { BENCH_DIR, benchClip, decodeToNull, median } from './bench_media.js';

const args = process.argv.slice(2);
const values = (name: string, dflt: string[]): string[] => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const out: string[] = [];
  for (let j = i + 1; j < args.length && !args[j].startsWith('--'); j++) out.push(args[j]);
  return out;
};
const minutesList = values('--minutes', ['5', '20']).map(Number);
const runs = Number(values('--runs', ['3'])[0]);
const sampling = parseSampling(values('--sample', ['uniform:32'])[0]);
const clip = await benchClip();

function longVideo(minutes: number): string {
  const out = join(BENCH_DIR, `faces_1080p_${minutes}min.mp4`);
  if (existsSync(out)) return out;
  const list = join(BENCH_DIR, `concat_${minutes}.txt`);
  writeFileSync(list, Array(Math.round(minutes * 6)).fill(`file '${clip}'\n`).join(''));
  execFileSync(mediaTools().ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', out]);
  return out;
}

async function sampledDecode(path: string, seek: boolean): Promise<{ s: number; frames: number; seeked: boolean }> {
  const t = performance.now();
  const src = await openFrames(path, sampling, { seek, recycleFrames: true });
  let frames = 0;
  for await (const _ of src.frames) frames++;
  return { s: (performance.now() - t) / 1000, frames, seeked: src.report.seeked === true };
}

console.log(`sampling ${JSON.stringify(sampling)}; ${runs} runs each, alternating`);
for (const minutes of minutesList) {
  const path = longVideo(minutes);
  const nulls: number[] = [], onePass: number[] = [], seeks: number[] = [];
  let frames = 0;
  for (let r = 0; r < runs; r++) {
    nulls.push(decodeToNull(path).wall);
    const a = await sampledDecode(path, false);
    const b = await sampledDecode(path, true);
    if (a.seeked || !b.seeked) throw new Error(`${path}: seeking ${b.seeked ? 'ran when forbidden' : 'fell back to one pass'}`);
    if (a.frames !== b.frames) throw new Error(`${path}: one pass gave ${a.frames} frames, seeking ${b.frames}`);
    onePass.push(a.s);
    seeks.push(b.s);
    frames = b.frames;
  }
  const src = await openFrames(path, sampling);
  const auto = prefersSeeking(src.info, src.indices) ? 'seeks' : 'one pass';
  for await (const _ of src.frames);
  const [n, o, k] = [median(nulls), median(onePass), median(seeks)];
  console.log(
    `${minutes} min (${frames} samples): decode to null ${n.toFixed(2)} s; one pass ${o.toFixed(2)} s (${(o / n).toFixed(2)}x null); ` +
      `seeking ${k.toFixed(2)} s (${(k / n).toFixed(2)}x null); seeking / one pass ${(k / o).toFixed(2)}; openFrames ${auto}`,
  );
}
