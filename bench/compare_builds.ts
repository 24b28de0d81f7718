/**
 * Scan speed of two builds of unmask on the bench clip, alternating (prints figures; not a test):
 * each build's scan time and CPU over ffmpeg's decode-to-null of the same clip, in back-to-back pairs,
 * median of 5. Builds alternate, so a drift in the machine's speed hits both alike.
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && npm ci && npm run build)
 *   node dist/bench/compare_builds.js /tmp/old/dist dist          (after `npm run bench` made the clip)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mediaTools } from '../src/media/tools.js';

const builds = process.argv.slice(2).map((p) => resolve(p));
if (builds.length !== 2) {
  console.error('usage: compare_builds <dist A> <dist B>');
  process.exit(2);
}
const clip = join(tmpdir(), 'unmask-bench', 'faces_1080p_10s.mp4');
/** CPU seconds of this process plus its reaped children (Linux /proc). */
function cpu(): number {
  const st = readFileSync('/proc/self/stat', 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface ScannerLike {
  scan(path: string): Promise<unknown>;
  dispose(): Promise<void>;
}
async function measure(dist: string): Promise<{ wall: number; cpu: number }> {
  const mod = (await import(pathToFileURL(join(dist, 'src/pipeline/scanner.js')).href)) as { Scanner: { create(o: object): Promise<ScannerLike> } };
  const scanner = await mod.Scanner.create({});
  await scanner.scan(clip); // warm-up
  const wall: number[] = [], cpus: number[] = [];
  for (let i = 0; i < 5; i++) {
    let c = cpu(), t = performance.now();
    spawnSync(mediaTools().ffmpeg, ['-v', 'error', '-i', clip, '-an', '-f', 'null', '-']);
    const nullWall = performance.now() - t, nullCpu = cpu() - c;
    c = cpu();
    t = performance.now();
    await scanner.scan(clip);
    wall.push((performance.now() - t) / nullWall);
    cpus.push((cpu() - c) / nullCpu);
  }
  await scanner.dispose();
  return { wall: median(wall), cpu: median(cpus) };
}

for (let round = 0; round < 2; round++) {
  for (const dist of builds) {
    const m = await measure(dist);
    console.log(`${dist}: scan / decode-to-null ${m.wall.toFixed(2)} wall, ${m.cpu.toFixed(2)} CPU (median of 5 pairs)`);
  }
}
