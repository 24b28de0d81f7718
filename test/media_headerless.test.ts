/**
 * Inputs whose container states neither a frame count nor a duration (a raw H.264 stream, an
 * animated PNG): the probe counts their packets, and they scan like any video.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { probeMedia } from '../src/media/probe.js';
import { Scanner } from '../src/pipeline/scanner.js';
import * as fx from './helpers/media_fixtures.js';

test('a raw H.264 stream and an animated PNG get their frames counted, exactly', async () => {
  const mp4 = await probeMedia(await fx.faceClip());
  for (const [kind, frames] of [['h264', mp4.frameCount], ['apng', 12]] as const) {
    const info = await probeMedia(await fx.headerlessClip(kind));
    assert.equal(info.kind, 'video', kind);
    assert.equal(info.frameCount, frames, kind);
    assert.equal(info.frameCountEstimated, false, kind);
    assert.equal(info.fps, 25, kind);
    assert.equal(info.durationMs, frames * 40, kind);
  }
});

let scanner: Scanner;
before(async () => {
  scanner = await Scanner.create({ sampling: { kind: 'uniform', count: 8 } });
});
after(async () => {
  await scanner?.dispose();
});

test('the raw stream scans to the same frames and scores as the MP4 it came from', async () => {
  const a = await scanner.scan(await fx.faceClip());
  const b = await scanner.scan(await fx.headerlessClip('h264'));
  assert.equal(b.status, 'ok', b.error?.message);
  assert.deepEqual(b.frames.map((f) => f.frameIndex), a.frames.map((f) => f.frameIndex));
  assert.deepEqual(b.frames.map((f) => f.probability), a.frames.map((f) => f.probability));
  assert.equal(b.verdict, a.verdict);
});

test('a stream cut inside a frame scans what there is, and says the decoder met damaged data', async () => {
  const whole = await scanner.scan(await fx.headerlessClip('h264'));
  assert.ok(!whole.warnings.some((w) => w.includes('damaged')), whole.warnings.join('; '));
  const r = await scanner.scan(await fx.streamCutInsideFrame());
  assert.equal(r.status, 'ok', r.error?.message);
  assert.equal(r.framesDecoded, 1);
  assert.ok(r.warnings.some((w) => w.startsWith('the decoder met damaged data (')), r.warnings.join('; '));
});

test('the animated PNG scans every sampled frame', async () => {
  const r = await scanner.scan(await fx.headerlessClip('apng'));
  assert.equal(r.status, 'ok', r.error?.message);
  assert.equal(r.framesDecoded, 8);
  assert.ok(r.tracks.length >= 1);
});
