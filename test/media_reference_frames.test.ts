/**
 * Sampling on reference frames (src/media/reference_frames.ts): the decoder skips non-reference
 * frames, each sample becomes the first decoded frame at or after it, and every frame carries its
 * true number, checked against an exact decode of the same numbers, pixel for pixel.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { warpAffine } from '../src/image/warp.js';
import { type DecodeReport, decodeVideoFrames } from '../src/media/decode.js';
import { FfmpegLog } from '../src/media/ffmpeg_log.js';
import { openFrames } from '../src/media/frame_source.js';
import type { MediaInfo } from '../src/media/media_info.js';
import { probeMedia } from '../src/media/probe.js';
import {
  frameIndexAt,
  MIN_SAMPLE_GAP,
  referenceFramePlan,
  samplesCovered,
  selectAtOrAfterExpression,
} from '../src/media/reference_frames.js';
import { sampleFrameIndices } from '../src/media/sampling.js';
import { mediaTools } from '../src/media/tools.js';
import type { Frame } from '../src/types.js';
import * as fx from './helpers/media_fixtures.js';

const video = (over: Partial<MediaInfo> = {}): MediaInfo => ({
  path: 'x.mp4', kind: 'video', width: 640, height: 360, fps: 25, frameCount: 100, frameCountEstimated: false,
  durationMs: 4000, codec: 'h264', colorMatrix: 'bt601', pixelFormat: 'yuv420p', constantFrameRate: true, ...over,
});

describe('referenceFramePlan', () => {
  const spread = [0, 10, 20, 30];
  it('applies to spread-out samples of constant-rate H.264 and HEVC from frame 0', () => {
    assert.deepEqual(referenceFramePlan(video(), spread, 5), { fps: 25 });
    assert.deepEqual(referenceFramePlan(video({ codec: 'hevc' }), spread, 6), { fps: 25 });
  });
  it('not for other codecs, variable frame rate, ffmpeg 4, samples closer than MIN_SAMPLE_GAP, or without frame 0', () => {
    assert.equal(referenceFramePlan(video({ codec: 'vp9' }), spread, 5), undefined);
    assert.equal(referenceFramePlan(video({ constantFrameRate: false }), spread, 5), undefined);
    assert.equal(referenceFramePlan(video({ constantFrameRate: undefined }), spread, 5), undefined);
    assert.equal(referenceFramePlan(video(), spread, 4), undefined);
    assert.equal(referenceFramePlan(video(), [0, 10, 10 + MIN_SAMPLE_GAP - 1], 5), undefined);
    assert.ok(referenceFramePlan(video(), [0, 10, 10 + MIN_SAMPLE_GAP], 5));
    assert.equal(referenceFramePlan(video(), [5, 15, 25], 5), undefined);
  });
});

describe('reference-frame select expression and frame numbers', () => {
  it('keeps the first frame at or after each sample, timed from the first frame', () => {
    assert.equal(
      selectAtOrAfterExpression([0, 10], { fps: 25 }),
      'gte(t-start_t\\,-0.020000)*not(gte(prev_selected_t-start_t\\,-0.020000))+' +
        'gte(t-start_t\\,0.380000)*not(gte(prev_selected_t-start_t\\,0.380000))',
    );
  });
  it('turns a timestamp back into a frame number (rounding jitter away)', () => {
    assert.equal(frameIndexAt(1.4 + 12 / 30, 1.4, { fps: 30 }), 12);
    assert.equal(frameIndexAt(1.4 + 12 / 30 + 0.004, 1.4, { fps: 30 }), 12);
    assert.equal(frameIndexAt(1.4, 1.4, { fps: 30 }), 0);
  });
  it('counts the samples a pass covered', () => {
    assert.equal(samplesCovered([0, 10, 20, 30], 21), 3);
    assert.equal(samplesCovered([0, 10, 20, 30], 30), 4);
    assert.equal(samplesCovered([0, 10, 20, 30], -1), 0);
  });
});

describe('FfmpegLog', () => {
  it('hands out showinfo timestamps in order and keeps error lines, ignoring info lines', async () => {
    const log = new FfmpegLog(true);
    log.push('[info] Input #0, mov,mp4, from \'a.mp4\':\n[Parsed_showinfo_1 @ 0x55] [info] config in time_base: 1/15360, frame_rate: 30/1\n');
    log.push('[Parsed_showinfo_1 @ 0x55] [info] n:   0 pts:  15360 pts_time:1       pos: 164936 fmt:yuv420p\n[Parsed_showinfo_1 @ 0x55] [info] color_range:tv\n');
    assert.equal(await log.nextFrameTime(), 1);
    const second = log.nextFrameTime(); // asked for before its line arrives
    log.push('[h264 @ 0x66] [error] Invalid NAL unit size.\n[Parsed_showinfo_1 @ 0x55] [info] n:   1 pts:  163');
    log.push('84 pts_time:1.06667\n[info] frame=    2 fps=0.0\n');
    assert.equal(await second, 16384 / 15360);
    assert.equal(log.lastError(), '[h264 @ 0x66] Invalid NAL unit size.');
    const pending = log.nextFrameTime();
    log.end();
    assert.equal(await pending, undefined);
    assert.equal(await log.nextFrameTime(), undefined);
  });
  it('without a time base line it reads pts_time; NOPTS gives no time', async () => {
    const log = new FfmpegLog(true);
    log.push('[Parsed_showinfo_0 @ 0x1] [info] n:   0 pts:   3000 pts_time:0.0333333 duration: 3000\n');
    log.push('[Parsed_showinfo_0 @ 0x1] [info] n:   1 pts: NOPTS pts_time:NOPTS\n');
    assert.equal(await log.nextFrameTime(), 0.0333333);
    assert.equal(await log.nextFrameTime(), undefined);
  });
  it('without level tags (-v error) every line is an error line', () => {
    const log = new FfmpegLog(false);
    log.push('first problem\nsecond problem\n\n');
    assert.equal(log.lastError(), 'second problem');
  });
});

/** A cheap digest of a frame's pixels (as RGB) for comparing two decodes. */
function digest(f: Frame): number {
  const rgb = warpAffine(f.pixels, [1, 0, 0, 0, 1, 0], f.width, f.height);
  let a = 0;
  for (let i = 0; i < rgb.length; i += 5) a = (a * 31 + rgb[i]) % 1000000007;
  return a;
}

async function decodeDigests(path: string, indices: number[], skipNonReference: boolean, report: DecodeReport = { requested: 0, decoded: 0 }) {
  const info = await probeMedia(path);
  const out: { index: number; timeMs: number; digest: number }[] = [];
  for await (const f of decodeVideoFrames(info, indices, report, { skipNonReference })) out.push({ index: f.index, timeMs: f.timeMs, digest: digest(f) });
  return { info, out, report };
}

const ffmpeg5 = mediaTools().ffmpegMajor >= 5;

describe('decoding on reference frames', { skip: ffmpeg5 ? false : 'needs ffmpeg >= 5 (the npm fallback is 4.1, which decodes exact frames)' }, () => {
  for (const kind of ['mp4', 'ts', 'hevc'] as const) {
    it(`${kind}: each sample becomes the first decoded frame at or after it, numbered truly`, async (t) => {
      const path = await fx.bFrameClip(kind);
      if (!path) return t.skip('ffmpeg has no libx265 encoder here');
      const info = await probeMedia(path);
      const indices = sampleFrameIndices({ kind: 'uniform', count: 16 }, info.frameCount, info.fps);
      const snapped = await decodeDigests(path, indices, true);
      assert.equal(snapped.report.referenceFramesOnly, true);
      assert.equal(snapped.report.warning, undefined);
      assert.equal(snapped.out.length, indices.length);
      snapped.out.forEach((f, i) => {
        assert.ok(f.index >= indices[i] && f.index < (indices[i + 1] ?? info.frameCount), `sample ${indices[i]} became frame ${f.index}`);
        assert.ok(f.index - indices[i] < MIN_SAMPLE_GAP);
        assert.ok(Math.abs(f.timeMs - (f.index / info.fps) * 1000) < 1e-6);
      });
      // the B-frames are skipped: some samples had to move
      assert.ok(snapped.out.some((f, i) => f.index !== indices[i]), 'no sample moved: nothing was skipped');
      // the same numbers decoded exactly give the same pixels
      const exact = await decodeDigests(path, snapped.out.map((f) => f.index), false);
      assert.equal(exact.report.referenceFramesOnly, false);
      assert.deepEqual(exact.out, snapped.out);
    });
  }

  it('openFrames moves spread-out samples unless the policy says exact; consecutive frames are always exact', async () => {
    const path = (await fx.bFrameClip('mp4'))!;
    const moved: number[] = [];
    const loose = await openFrames(path, { kind: 'uniform', count: 16 });
    for await (const f of loose.frames) moved.push(f.index);
    assert.equal(loose.report.referenceFramesOnly, true);
    assert.notDeepEqual(moved, loose.indices);

    for (const policy of [{ kind: 'uniform', count: 16, exact: true }, { kind: 'range', start: 0, count: 12 }] as const) {
      const src = await openFrames(path, policy);
      const got: number[] = [];
      for await (const f of src.frames) got.push(f.index);
      assert.equal(src.report.referenceFramesOnly, false);
      assert.deepEqual(got, src.indices);
    }
  });

  it('a truncated file still warns about the samples it lost', async () => {
    const path = (await fx.bFrameClip('mp4'))!;
    const info = await probeMedia(path);
    // ask past the end as an over-long header would: the last samples are never reached
    const indices = [0, 20, 40, 60, 80, 99, 120, 140];
    const report: DecodeReport = { requested: 0, decoded: 0 };
    for await (const _ of decodeVideoFrames(info, indices, report, { skipNonReference: true }));
    assert.equal(report.referenceFramesOnly, true);
    assert.equal(report.decoded, 6);
    assert.match(report.warning ?? '', /decoded 6 of 8 sampled frames/);
  });
});
