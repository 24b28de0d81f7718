/**
 * Decoding far-apart samples by seeking (src/media/seek_decode.ts): when it applies, and that every
 * seeked frame is the exact frame a one-pass decode of the same number gives, pixel for pixel.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { warpAffine } from '../src/image/warp.js';
import { type DecodeReport, decodeVideoFrames } from '../src/media/decode.js';
import { openFrames } from '../src/media/frame_source.js';
import type { MediaInfo } from '../src/media/media_info.js';
import { probeMedia } from '../src/media/probe.js';
import { decodeFramesBySeeking, prefersSeeking, SEEK_MIN_GAP_S, seekable, seekTime, frameTimes, x264Build } from '../src/media/seek_decode.js';
import type { Frame } from '../src/types.js';
import * as fx from './helpers/media_fixtures.js';

const video = (over: Partial<MediaInfo> = {}): MediaInfo => ({
  path: 'x.mp4', kind: 'video', width: 640, height: 360, fps: 25, frameCount: 100_000, frameCountEstimated: false,
  durationMs: 4_000_000, codec: 'h264', colorMatrix: 'bt601', pixelFormat: 'yuv420p', constantFrameRate: true,
  container: 'mov,mp4,m4a,3gp,3g2,mj2', videoStartS: 0, ...over,
});

describe('when seeking applies', () => {
  const gap = SEEK_MIN_GAP_S * 25;
  it('MP4/MOV and Matroska/WebM with a known start, at any frame rate', () => {
    assert.equal(seekable(video()), true);
    assert.equal(seekable(video({ container: 'matroska,webm' })), true);
    assert.equal(seekable(video({ constantFrameRate: false })), true);
    for (const over of [{ container: 'mpegts' }, { container: undefined }, { videoStartS: undefined }, { kind: 'image' as const }])
      assert.equal(seekable(video(over)), false, JSON.stringify(over));
  });
  it(`only for samples at least ${SEEK_MIN_GAP_S} s apart`, () => {
    assert.equal(prefersSeeking(video(), [0, gap, 2 * gap]), true);
    assert.equal(prefersSeeking(video(), [0, gap, 2 * gap - 1]), false);
    assert.equal(prefersSeeking(video({ fps: 50 }), [0, gap, 2 * gap]), false);
    assert.equal(prefersSeeking(video(), [gap]), false);
    assert.equal(prefersSeeking(video({ container: 'avi' }), [0, gap, 2 * gap]), false);
  });
  it("seeks a quarter of the frame's gap early, from its own time, counted from the file start", () => {
    const times = [10, 10.04, 10.08, 10.2, 10.24];
    assert.equal(seekTime(video(), 0, times), 0);
    assert.ok(Math.abs(seekTime(video(), 3, times)! - (0.2 - 0.03)) < 1e-12);
    assert.ok(Math.abs(seekTime(video({ videoStartS: 0.7 }), 3, times)! - (0.7 + 0.2 - 0.03)) < 1e-12);
    assert.equal(seekTime(video(), 5, times), undefined);
  });
});

/** A cheap digest of a frame's pixels (as RGB) and of its detector preview. */
function digest(f: Frame): string {
  const rgb = warpAffine(f.pixels, [1, 0, 0, 0, 1, 0], f.width, f.height);
  let a = 0;
  for (let i = 0; i < rgb.length; i += 5) a = (a * 31 + rgb[i]) % 1000000007;
  let b = 0;
  for (const v of f.preview?.data ?? []) b = (b * 31 + v) % 1000000007;
  return `${f.index}:${a}:${b}`;
}

async function digests(frames: AsyncIterable<Frame>): Promise<string[]> {
  const out: string[] = [];
  for await (const f of frames) out.push(digest(f));
  return out;
}

describe('decoding by seeking', () => {
  // each clip with its true frame count (Matroska's header gives none: it is estimated from the duration, audio included)
  for (const [name, clip, frames] of [
    ['MP4 with B-frames', () => fx.bFrameClip('mp4').then((p) => p!), 100],
    ['MP4 whose video starts 0.7 s after its audio', () => fx.audioFirstClip('mp4'), 100],
    ['Matroska whose video starts 0.7 s after its audio', () => fx.audioFirstClip('mkv'), 100],
    ['24 s of copies joined (a keyframe every 4 s)', () => fx.longClip(), 600],
    ['MP4 at a variable frame rate', () => fx.variableRateClip('mp4'), 100],
    ['Matroska at a variable frame rate (its nominal rate is the mean)', () => fx.variableRateClip('mkv'), 100],
  ] as const) {
    it(`${name}: every sample is the frame a one-pass decode gives it`, async () => {
      const info = await probeMedia(await clip());
      assert.equal(seekable(info), true);
      assert.equal((await frameTimes(info))?.length, frames);
      // first, last, keyframes, B-frames and the frames just before and after them; 6 and 13 are
      // where the variable-rate clips' times stray furthest from frame number / mean rate
      const indices = [...new Set([0, 1, 2, 6, 13, 37, 49, 50, 51, 73, 99, frames - 1])];
      const report: DecodeReport = { requested: 0, decoded: 0 };
      const seeked = await digests(decodeFramesBySeeking(info, indices, report));
      assert.equal(report.seeked, true);
      assert.equal(report.warning, undefined);
      const onePass = await digests(decodeVideoFrames(info, indices, undefined, { skipNonReference: false }));
      assert.equal(onePass.length, indices.length);
      assert.deepEqual(seeked, onePass);
    });
  }

  it('4:4:4 H.264: the x264 version of the first frame is passed on; a seek that decodes with errors hands over to one pass', async () => {
    const info = await probeMedia(await fx.clip444());
    const build = await x264Build(info);
    assert.ok(build !== undefined && build > 100, `x264 build ${build}`);
    const indices = [0, 30, 37, 60, 99];
    const onePass = await digests(decodeVideoFrames(info, indices, undefined, { skipNonReference: false }));
    const report: DecodeReport = { requested: 0, decoded: 0 };
    assert.deepEqual(await digests(decodeFramesBySeeking(info, indices, report)), onePass);
    assert.equal(report.seeked, true);
    // told an old x264 made it, the decoder works around a bug the stream does not have: errors after
    // the first seek past a keyframe, so from there on the samples come from one pass
    const fallback: DecodeReport = { requested: 0, decoded: 0 };
    assert.deepEqual(await digests(decodeFramesBySeeking(info, indices, fallback, { decoderArgs: ['-x264_build', '148'] })), onePass);
    assert.equal(fallback.seeked, false);
    assert.equal(fallback.decoded, indices.length);
    assert.equal(fallback.warning, undefined);
  });

  it('openFrames seeks by itself only when the samples are far apart; clip and range stay one pass', async () => {
    const path = await fx.longClip();
    const far = await openFrames(path, { kind: 'uniform', count: 2 });
    const got: number[] = [];
    for await (const f of far.frames) got.push(f.index);
    assert.equal(far.report.seeked, true);
    assert.deepEqual(got, far.indices);
    for (const policy of [{ kind: 'uniform', count: 16 }, { kind: 'range', start: 0, count: 3 }] as const) {
      const src = await openFrames(path, policy);
      for await (const _ of src.frames);
      assert.equal(src.report.seeked, undefined, policy.kind);
    }
  });

  it('a file that cannot seek exactly is decoded in one pass even when asked to seek', async () => {
    const src = await openFrames((await fx.bFrameClip('ts'))!, { kind: 'uniform', count: 4 }, { seek: true });
    for await (const _ of src.frames);
    assert.equal(src.report.seeked, undefined);
    assert.equal(src.report.decoded, 4);
  });

  it('samples past the real end are skipped and reported; none at all is an error', async () => {
    const info = await probeMedia((await fx.bFrameClip('mp4'))!);
    const report: DecodeReport = { requested: 0, decoded: 0 };
    const got = await digests(decodeFramesBySeeking(info, [0, 50, 99, 120, 140], report));
    assert.equal(got.length, 3);
    assert.match(report.warning ?? '', /decoded 3 of 5 sampled frames/);
    await assert.rejects(digests(decodeFramesBySeeking(info, [150, 160])), (e: Error & { code?: string }) => e.code === 'NO_FRAMES' && /past the end/.test(e.message));
  });

  it('a consumer that stops early leaves no ffmpeg behind', async () => {
    const info = await probeMedia(await fx.longClip());
    const frames = decodeFramesBySeeking(info, [0, 200, 400, 599]);
    for await (const f of frames) if (f.index === 0) break;
    // the generator's finally killed the run decoding ahead; a new decode still works
    assert.equal((await digests(decodeFramesBySeeking(info, [599]))).length, 1);
  });
});

const DATA = process.env.UNMASK_DATA ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
const dataSkip = existsSync(join(DATA, 'manifest.csv')) ? false : `../shared/data absent (looked in ${DATA})`;

describe('seeking in the development videos', { skip: dataSkip }, () => {
  it('an FF++ c40 video of x264 core 148 in 4:4:4 seeks exactly (without the version its seeks decode with errors)', async () => {
    const info = await probeMedia(join(DATA, 'ffpp_c40/original_youtube__720.mp4'));
    assert.equal(await x264Build(info), 148);
    const indices = [0, 256, 307, 358, info.frameCount - 1];
    const report: DecodeReport = { requested: 0, decoded: 0 };
    const seeked = await digests(decodeFramesBySeeking(info, indices, report));
    assert.equal(report.seeked, true);
    assert.deepEqual(seeked, await digests(decodeVideoFrames(info, indices, undefined, { skipNonReference: false })));
  });
});
