/**
 * Interlaced video (src/media/display_chain.ts): each sampled frame is deinterlaced on its own, so
 * a moving face is not combed (the classifiers read combing as a fake's artefact).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { canDeinterlace, displayChain, displaySteps } from '../src/media/display_chain.js';
import { probeMedia } from '../src/media/probe.js';
import { mediaTools } from '../src/media/tools.js';
import { firstFrameRgb, meanAbsDiff } from './helpers/frame_compare.js';
import * as fx from './helpers/media_fixtures.js';

describe('interlaced video', { skip: canDeinterlace() ? false : 'this ffmpeg has no kerndeint filter' }, () => {
  it('is known by its field order; progressive video is left alone', async () => {
    const interlaced = await probeMedia(fx.panningClip('interlaced'));
    assert.equal(interlaced.interlaced, true);
    assert.equal(displayChain(interlaced), 'kerndeint');
    assert.deepEqual(displaySteps(interlaced), ['deinterlace']);
    const progressive = await probeMedia(fx.panningClip('progressive'));
    assert.equal(progressive.interlaced, undefined);
    assert.equal(displayChain(progressive), undefined);
  });

  it('a moving frame is decoded (one pass and seeking) as one of its two moments, not combed', async () => {
    const path = fx.panningClip('interlaced');
    const frame = (file: string, n: number) =>
      execFileSync(mediaTools().ffmpeg, ['-v', 'error', '-i', file, '-vf', `select='eq(n\\,${n})'`, '-vsync', '0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 });
    // the progressive frames of frame 0's two fields
    const moments = [0, 1].map((n) => frame(fx.panningClip('progressive'), n));
    const nearest = (rgb: Buffer) => Math.min(...moments.map((m) => meanAbsDiff(rgb, m)));
    // ffmpeg's plain decode: both fields woven together, as the scan saw it before
    const before = nearest(frame(path, 0));
    for (const seek of [false, true]) {
      const got = await firstFrameRgb(path, { seek });
      assert.equal(got.seeked, seek);
      assert.equal(got.frame.index, 0);
      const now = nearest(got.rgb);
      assert.ok(now < 2 && before > 2 * now, `seek ${seek}: ${before.toFixed(2)} levels from the nearer moment woven, ${now.toFixed(2)} deinterlaced`);
    }
  });
});
