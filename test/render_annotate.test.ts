/**
 * `scan --annotate`: a clip rendered from a real face photo is scanned with the shipped default model
 * and annotated. The output keeps every frame and the frame rate, and the box edges carry the colour
 * of each track's running verdict, at sampled frames and between them (interpolated boxes).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { logit, sigmoid } from '../src/aggregate/prob.js';
import { decideVerdict } from '../src/aggregate/verdict.js';
import { probeMedia } from '../src/media/probe.js';
import { mediaTools } from '../src/media/tools.js';
import { Scanner } from '../src/pipeline/scanner.js';
import type { ScanFrameScore, ScanResult } from '../src/pipeline/scan_result.js';
import { annotateMedia } from '../src/render/annotate_video.js';
import { findChromium } from '../src/render/chromium.js';
import { VERDICT_COLOURS } from '../src/render/track_overlay.js';
import type { Box } from '../src/types.js';
import * as fx from './helpers/media_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
function unmask(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

let dir: string;
let clip: string;
let scan: ScanResult;
let scanner: Scanner;

before(async () => {
  dir = tempDir('annotate');
  clip = await fx.faceClip();
  scanner = await Scanner.create({ sampling: { kind: 'uniform', count: 8 } });
  scan = await scanner.scan(clip);
  assert.equal(scan.status, 'ok');
  assert.equal(scan.tracks.length, 3);
});
after(async () => {
  await scanner?.dispose();
});

/** Packed RGB of frame `n` of a video. */
function frameAt(video: string, n: number, width: number, height: number): Buffer {
  const out = execFileSync(
    mediaTools().ffmpeg,
    ['-v', 'error', '-i', video, '-vf', `select='eq(n\\,${n})'`, '-vsync', '0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(out.length, width * height * 3, `frame ${n} decoded`);
  return out;
}

function pixel(rgb: Buffer, width: number, x: number, y: number): number[] {
  const i = (Math.round(y) * width + Math.round(x)) * 3;
  return [rgb[i], rgb[i + 1], rgb[i + 2]];
}

function assertColour(actual: number[], expected: readonly number[], what: string): void {
  const off = Math.max(...actual.map((c, i) => Math.abs(c - expected[i])));
  assert.ok(off <= 60, `${what}: pixel ${actual} is not the verdict colour ${expected}`);
}

/** The colour a track should have at frame f: its running mean logit over samples up to f, on the band. */
function expectedColour(s: ScanResult, trackId: number, f: number): readonly number[] {
  const logits = s.frames.filter((x) => x.trackId === trackId && x.frameIndex <= f).map((x) => logit(x.probability));
  const p = sigmoid(logits.reduce((a, b) => a + b, 0) / logits.length);
  return VERDICT_COLOURS[decideVerdict(p, s.band) as keyof typeof VERDICT_COLOURS];
}

/** A point in the middle of the box's left edge, inside the (>= 4 px) stroke. */
function leftEdge(box: Box): [number, number] {
  return [box.x + 2, box.y + box.height / 2];
}

function samplesOf(s: ScanResult, trackId: number): ScanFrameScore[] {
  return s.frames.filter((f) => f.trackId === trackId).sort((a, b) => a.frameIndex - b.frameIndex);
}

test('annotated video: every frame, same size and fps; boxes in the running verdict colour', async () => {
  const out = join(dir, 'annotated.mp4');
  const r = await annotateMedia(scan, out);
  const src = await probeMedia(clip);
  const got = await probeMedia(out);
  assert.equal(r.frames, src.frameCount);
  assert.equal(got.frameCount, src.frameCount);
  assert.equal(got.fps, src.fps);
  assert.equal(got.width, src.width);
  assert.equal(got.height, src.height);
  for (const t of scan.tracks) {
    const s = samplesOf(scan, t.trackId);
    // at a sampled frame the box is the detected one
    const at = s[2];
    const rgb = frameAt(out, at.frameIndex, got.width, got.height);
    assertColour(pixel(rgb, got.width, ...leftEdge(at.box)), expectedColour(scan, t.trackId, at.frameIndex), `track ${t.trackId} frame ${at.frameIndex}`);
    // half-way to the next sample the box is interpolated
    const mid = Math.round((s[2].frameIndex + s[3].frameIndex) / 2);
    const k = (mid - s[2].frameIndex) / (s[3].frameIndex - s[2].frameIndex);
    const box = {
      x: s[2].box.x + (s[3].box.x - s[2].box.x) * k,
      y: s[2].box.y + (s[3].box.y - s[2].box.y) * k,
      width: s[2].box.width + (s[3].box.width - s[2].box.width) * k,
      height: s[2].box.height + (s[3].box.height - s[2].box.height) * k,
    };
    const rgbMid = frameAt(out, mid, got.width, got.height);
    assertColour(pixel(rgbMid, got.width, ...leftEdge(box)), expectedColour(scan, t.trackId, mid), `track ${t.trackId} frame ${mid} (interpolated)`);
  }
});

test('the colour follows the decision band: a band that calls everything FAKE draws red boxes', async () => {
  const allFake: ScanResult = { ...scan, band: { realBelow: 0, fakeAbove: 0 } };
  const out = join(dir, 'all_fake.mp4');
  await annotateMedia(allFake, out);
  const at = samplesOf(scan, scan.tracks[0].trackId)[0];
  const { width, height } = scan.media!;
  const rgb = frameAt(out, at.frameIndex, width, height);
  assertColour(pixel(rgb, width, ...leftEdge(at.box)), VERDICT_COLOURS.FAKE, 'all-FAKE band');
  // the same pixel of the real annotation was not red unless the track really was FAKE
  if (decideVerdict(at.probability, scan.band) !== 'FAKE') {
    const plain = frameAt(join(dir, 'annotated.mp4'), at.frameIndex, width, height);
    const p = pixel(plain, width, ...leftEdge(at.box));
    assert.ok(Math.abs(p[1] - VERDICT_COLOURS.FAKE[1]) > 60, `pixel ${p} should not be red`);
  }
});

test('an image input gives an annotated image of the same size', async () => {
  const photo = fx.facePhoto(2);
  const s = await scanner.scan(photo);
  assert.ok(s.tracks.length >= 1);
  const out = join(dir, 'photo.png');
  await annotateMedia(s, out);
  const meta = await sharp(out).metadata();
  assert.equal(meta.width, s.media!.width);
  assert.equal(meta.height, s.media!.height);
  const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  const f = s.frames[0];
  assertColour(pixel(data, meta.width!, ...leftEdge(f.box)), expectedColour(s, f.trackId, 0), 'image box');
});

test('bad --annotate / --timeline use: one line, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--annotate', join(dir, 'a.mp4'), clip, fx.noFaceClip()], /^unmask: --annotate need exactly one input; got 2$/],
    [['--timeline', join(dir, 't.png'), clip, fx.noFaceClip()], /^unmask: --timeline need exactly one input; got 2$/],
    [['--annotate', join(dir, 'a.gif'), clip], /^unmask: --annotate: write a video \(.mp4, .mkv, .mov\) or an image/],
    [['--timeline', join(dir, 't.jpg'), clip], /^unmask: --timeline: the output must end in \.png/],
  ];
  for (const [args, re] of cases) {
    const p = unmask('scan', ...args);
    assert.equal(p.status, 2, p.stderr);
    const lines = p.stderr.trim().split('\n');
    assert.equal(lines.length, 1, p.stderr);
    assert.match(lines[0], re);
  }
  const p = unmask('scan', '--sample', 'uniform:2', '--annotate', join(dir, 'photo.mp4'), fx.facePhoto(2));
  assert.equal(p.status, 2);
  assert.match(p.stderr.trim(), /^unmask: --annotate: the output of an image input must end in \.png, \.jpg, \.jpeg, \.webp/);
});

test('CLI: scan --annotate (and --timeline where Chromium is installed) writes the files; exit 0', async () => {
  const video = join(dir, 'cli.mp4');
  const chart = join(dir, 'cli_timeline.png');
  const withTimeline = !!findChromium();
  const p = unmask('scan', '--json', '--sample', 'uniform:4', '--annotate', video, ...(withTimeline ? ['--timeline', chart] : []), clip);
  assert.equal(p.status, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout).results.length, 1);
  assert.match(p.stderr, /wrote .*cli\.mp4 \(50 frames, 3 tracks\)/);
  assert.equal((await probeMedia(video)).frameCount, 50);
  if (withTimeline) {
    assert.ok(existsSync(chart));
    assert.equal((await sharp(chart).metadata()).format, 'png');
  }
});
