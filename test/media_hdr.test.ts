/**
 * HDR video (src/media/display_chain.ts): PQ and HLG clips are tone-mapped to SDR BT.709 as they
 * are decoded, so the scan sees the picture their SDR original shows, not ffmpeg's washed-out
 * conversion of the HDR signal.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { faceThumbnail } from '../src/eval/thumbnails.js';
import { canToneMap, displayChain, displaySteps, isHdr, toneMapFilter } from '../src/media/display_chain.js';
import { frameLayout } from '../src/media/decode.js';
import type { MediaInfo } from '../src/media/media_info.js';
import { probeMedia } from '../src/media/probe.js';
import { mediaTools } from '../src/media/tools.js';
import { firstFrameRgb, meanAbsDiff, thumbnailPixels } from './helpers/frame_compare.js';
import * as fx from './helpers/media_fixtures.js';

// the (dark) SDR picture against itself through 10-bit HDR and back differs by under a level on
// average; the HDR signal read as if it were SDR, by about 6
const SAME_PICTURE = 2;

const video = (colour: MediaInfo['colour']): MediaInfo => ({
  path: 'x.mp4', kind: 'video', width: 640, height: 360, fps: 25, frameCount: 100, frameCountEstimated: false,
  durationMs: 4000, codec: 'hevc', colorMatrix: 'bt601', pixelFormat: 'yuv420p', colour,
});

describe('HDR video', { skip: canToneMap() ? false : 'this ffmpeg has no zscale filter' }, () => {
  it('is known by its transfer, and comes as RGB through the tone map', () => {
    assert.equal(isHdr(video({ transfer: 'smpte2084' })), true);
    assert.equal(isHdr(video({ transfer: 'arib-std-b67' })), true);
    for (const transfer of ['bt709', 'smpte170m', undefined]) assert.equal(isHdr(video({ transfer })), false, String(transfer));
    const layout = frameLayout(video({ transfer: 'arib-std-b67', primaries: 'bt2020', space: 'bt2020nc' }));
    assert.equal(layout.format, 'rgb24');
    assert.match(layout.display ?? '', /^zscale=tin=arib-std-b67:pin=bt2020:min=bt2020nc:rin=tv:.*tonemap=tonemap=mobius/);
    assert.equal(frameLayout(video({ transfer: 'bt709' })).display, undefined);
    assert.deepEqual(displaySteps(video({ transfer: 'smpte2084' })), ['tone-map']);
    assert.deepEqual(displaySteps({ ...video({ transfer: 'arib-std-b67' }), interlaced: true, pixelAspect: 4 / 3 }), ['deinterlace', 'tone-map', 'square-pixels']);
  });

  it('an untagged matrix or primaries falls back to BT.2020', () => {
    assert.match(toneMapFilter(video({ transfer: 'smpte2084' })), /^zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=tv:/);
    assert.match(toneMapFilter(video({ transfer: 'smpte2084', space: 'ycgco', range: 'pc' })), /:min=bt2020nc:rin=pc:/);
  });

  it('8-bit video in a matrix the crops do not convert (BT.2020) comes as RGB converted by ffmpeg', () => {
    assert.equal(frameLayout(video({ space: 'bt2020nc' })).format, 'rgb24');
    assert.equal(frameLayout(video({ space: 'bt709' })).format, 'yuv420p');
    assert.equal(frameLayout(video({ range: 'pc' })).format, 'rgb24');
  });

  for (const kind of ['hlg', 'pq'] as const) {
    it(`${kind}: decoded (one pass and seeking) as the SDR original's picture`, async () => {
      const info = await probeMedia(fx.hdrClip(kind));
      assert.equal(isHdr(info), true);
      assert.deepEqual(info.colour, { transfer: kind === 'hlg' ? 'arib-std-b67' : 'smpte2084', primaries: 'bt2020', space: 'bt2020nc', range: 'tv' });
      const sdr = await firstFrameRgb(fx.pixelAspectClip('square'));
      for (const seek of [false, true]) {
        const got = await firstFrameRgb(info.path, { seek });
        assert.equal(got.seeked, seek);
        const d = meanAbsDiff(got.rgb, sdr.rgb);
        assert.ok(d < SAME_PICTURE, `seek ${seek}: mean difference ${d.toFixed(2)} levels`);
      }
    });
  }

  it('without the tone map (what the scan saw before) the frames differ from the original several times more', async () => {
    const sdr = await firstFrameRgb(fx.pixelAspectClip('square'));
    for (const kind of ['hlg', 'pq'] as const) {
      const path = fx.hdrClip(kind);
      // ffmpeg's plain RGB conversion, as for an SDR stream
      const plain = execFileSync(mediaTools().ffmpeg, ['-v', 'error', '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 24 });
      const [before, now] = [meanAbsDiff(plain, sdr.rgb), meanAbsDiff((await firstFrameRgb(path)).rgb, sdr.rgb)];
      assert.ok(before > 4 && before > 5 * now, `${kind}: ${before.toFixed(2)} levels before, ${now.toFixed(2)} now`);
    }
  });

  it("a face thumbnail is cut from the tone-mapped frame", async () => {
    const box = { x: 300, y: 150, width: 220, height: 260 };
    const sdr = await thumbnailPixels(await faceThumbnail(fx.pixelAspectClip('square'), 0, box));
    const d = meanAbsDiff(await thumbnailPixels(await faceThumbnail(fx.hdrClip('hlg'), 0, box)), sdr);
    assert.ok(d < SAME_PICTURE, `mean difference ${d.toFixed(2)} levels`);
    assert.equal(displayChain(await probeMedia(fx.pixelAspectClip('square'))), undefined);
  });
});
