/** Every kind of bad input gives a typed, one-line error, or explicit output; never a crash. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFilter, decodeVideoFrames, type DecodeReport } from '../src/media/decode.js';
import { yuv420Bytes } from '../src/image/yuv.js';
import { openFrames } from '../src/media/frame_source.js';
import { probeMedia } from '../src/media/probe.js';
import { BlazeFaceDetector } from '../src/faces/blazeface.js';
import { analyzeFaces } from '../src/pipeline/face_analysis.js';
import { UnmaskError } from '../src/util/errors.js';
import * as fx from './helpers/media_fixtures.js';

async function probeError(path: string): Promise<UnmaskError> {
  try {
    await probeMedia(path);
  } catch (e) {
    assert.ok(e instanceof UnmaskError, `expected UnmaskError, got ${e}`);
    assert.ok(!e.message.includes('\n'), 'error message must be one line');
    return e;
  }
  assert.fail(`probing ${path} should fail`);
}

test('missing file -> NOT_FOUND', async () => {
  assert.equal((await probeError('/nonexistent/video.mp4')).code, 'NOT_FOUND');
});

test('a URL -> NOT_FOUND, saying that only local files are read', async () => {
  const e = await probeError('https://example.com/video.mp4');
  assert.equal(e.code, 'NOT_FOUND');
  assert.match(e.message, /^https:\/\/example\.com\/video\.mp4 is a URL: unmask reads local files only/);
});

test('empty file -> EMPTY_FILE', async () => {
  assert.equal((await probeError(fx.emptyFile())).code, 'EMPTY_FILE');
});

test('text renamed .mp4 -> UNREADABLE_MEDIA', async () => {
  assert.equal((await probeError(fx.textAsMp4())).code, 'UNREADABLE_MEDIA');
});

test('a file name holding a newline still gives a one-line error, the name escaped', async () => {
  const e = await probeError(fx.copyAs(fx.textAsMp4(), 'two\nlines.mp4'));
  assert.equal(e.code, 'UNREADABLE_MEDIA');
  assert.match(e.message, /two\\nlines\.mp4 \(Invalid data found when processing input\)$/);
});

test('audio-only file -> NO_VIDEO_STREAM', async () => {
  assert.equal((await probeError(fx.audioOnly())).code, 'NO_VIDEO_STREAM');
});

test('audio file whose only picture is its cover art -> NO_VIDEO_STREAM (the cover is not scanned)', async () => {
  assert.equal((await probeError(fx.audioWithCover())).code, 'NO_VIDEO_STREAM');
});

test('the decode filter reads the video stream the probe chose (cover pictures are passed over)', () => {
  const layout = { format: 'yuv420p' as const, width: 64, height: 48 };
  assert.match(decodeFilter([0, 5], layout), /^\[0:v:0\]select=/);
  assert.match(decodeFilter([0, 5], layout, undefined, 1), /^\[0:v:1\]select=/);
});

test('truncated mp4 (header lost) -> UNREADABLE_MEDIA', async () => {
  assert.equal((await probeError(await fx.truncatedMp4())).code, 'UNREADABLE_MEDIA');
});

test('truncated mp4 with header intact: decodes what exists and warns', async () => {
  const info = await probeMedia(await fx.truncatedFaststartMp4());
  assert.equal(info.kind, 'video');
  const indices = Array.from({ length: info.frameCount }, (_, i) => i);
  const report: DecodeReport = { requested: 0, decoded: 0 };
  let n = 0;
  for await (const f of decodeVideoFrames(info, indices, report)) {
    // the buffer also holds the detector preview stacked below the frame
    assert.equal(f.pixels.format, 'yuv420p');
    assert.ok(f.pixels.data.length >= yuv420Bytes(f.width, f.height));
    assert.equal(f.preview?.data.length, f.preview!.width * f.preview!.height * 3);
    n++;
  }
  assert.ok(n > 0 && n < info.frameCount, `decoded ${n} of ${info.frameCount}`);
  assert.equal(report.decoded, n);
  assert.match(report.warning ?? '', /decoded \d+ of \d+/);
});

test('text renamed .bmp -> UNREADABLE_MEDIA (ffprobe sees a picture without a size)', async () => {
  const e = await probeError(fx.textAsBmp());
  assert.equal(e.code, 'UNREADABLE_MEDIA');
  assert.match(e.message, /no size/);
});

test('BMP and TIFF pictures decode as one-frame images, the same pixels as the JPEG they came from', async () => {
  const reference = await openFrames(fx.facePhoto());
  let want: Buffer | undefined;
  for await (const f of reference.frames) want = Buffer.from(f.pixels.data);
  for (const ext of ['bmp', 'tiff'] as const) {
    const src = await openFrames(fx.facePhotoAs(ext));
    assert.equal(src.info.kind, 'image', ext);
    const frames = [];
    for await (const f of src.frames) frames.push(f);
    assert.equal(frames.length, 1, ext);
    const [f] = frames;
    assert.deepEqual([f.width, f.height, f.pixels.format], [reference.info.width, reference.info.height, 'rgb24'], ext);
    // BMP and TIFF are lossless copies of the decoded JPEG: pixels within a JPEG decoder's rounding
    let diff = 0;
    for (let i = 0; i < want!.length; i++) diff += Math.abs(f.pixels.data[i] - want![i]);
    assert.ok(diff / want!.length < 2, `${ext}: mean abs difference ${diff / want!.length}`);
  }
});

test('a multi-page TIFF is scanned as its first page, with a warning that says so', async () => {
  assert.equal((await probeMedia(fx.facePhotoAs('tiff'))).pages, undefined, 'one page: nothing to say');
  const path = await fx.twoPageTiff();
  assert.equal((await probeMedia(path)).pages, 2);
  const detector = await BlazeFaceDetector.load();
  try {
    const a = await analyzeFaces(path, detector);
    assert.deepEqual(a.framesDecoded, [0]);
    assert.ok(a.warnings.includes('the picture holds 2 pages: only the first was scanned (save the others as pictures of their own to scan them)'), a.warnings.join('; '));
  } finally {
    await detector.dispose();
  }
});

test('truncated JPEG -> UNREADABLE_MEDIA when decoded, not a half-grey picture', async () => {
  const src = await openFrames(fx.truncatedJpeg());
  await assert.rejects(
    async () => {
      for await (const _ of src.frames);
    },
    (e: unknown) => e instanceof UnmaskError && e.code === 'UNREADABLE_MEDIA' && /premature end/i.test(e.message),
  );
});

test('a video named like a picture is scanned as a video, and a picture named like a video as a picture', async () => {
  const video = await probeMedia(fx.copyAs(await fx.faceClip(), 'clip_named.jpg'));
  assert.deepEqual([video.kind, video.frameCount > 1], ['video', true]);
  const picture = await probeMedia(fx.copyAs(fx.facePhoto(), 'photo_named.mp4'));
  assert.deepEqual([picture.kind, picture.width, picture.height], ['image', 1920, 1280]);
});

test('directory given as a file -> UNREADABLE_MEDIA', async () => {
  assert.equal((await probeError(fx.fixturesDir)).code, 'UNREADABLE_MEDIA');
});

test('1-frame video decodes exactly one frame whatever the sampling asks', async () => {
  const src = await openFrames(fx.oneFrameClip(), { kind: 'uniform', count: 32 });
  assert.equal(src.info.frameCount, 1);
  const frames = [];
  for await (const f of src.frames) frames.push(f);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].index, 0);
});

test('4K still and 4K video decode at full size', async () => {
  const img = await openFrames(fx.fourKImage());
  assert.equal(img.info.kind, 'image');
  for await (const f of img.frames) assert.deepEqual([f.width, f.height, f.pixels.format, f.pixels.data.length], [3840, 2160, 'rgb24', 3840 * 2160 * 3]);
  const vid = await openFrames(fx.fourKClip(), { kind: 'uniform', count: 3 });
  let n = 0;
  for await (const f of vid.frames) {
    assert.deepEqual([f.width, f.height, f.pixels.format, f.preview?.width, f.preview?.height], [3840, 2160, 'yuv420p', 256, 144]);
    n++;
  }
  assert.equal(n, 3);
});

test('uniform sampling decodes the requested frame indices in one pass', async () => {
  const src = await openFrames(await fx.faceClip(), { kind: 'uniform', count: 8 });
  assert.equal(src.info.frameCount, 50);
  const got: number[] = [];
  for await (const f of src.frames) got.push(f.index);
  assert.deepEqual(got, src.indices);
  assert.equal(got.length, 8);
  assert.equal(src.report.warning, undefined);
});
