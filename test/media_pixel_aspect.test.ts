/**
 * Videos whose pixels are not square (src/media/pixel_aspect.ts): probed at their display size and
 * decoded (one pass, seeking, annotating, thumbnails) as the same picture a square-pixel copy gives,
 * so faces keep their shape.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { faceThumbnail } from '../src/eval/thumbnails.js';
import { iou } from '../src/faces/box_ops.js';
import { displaySize, parsePixelAspect } from '../src/media/pixel_aspect.js';
import { probeMedia } from '../src/media/probe.js';
import type { ScanResult } from '../src/pipeline/scan_result.js';
import { Scanner } from '../src/pipeline/scanner.js';
import { annotateMedia } from '../src/render/annotate_video.js';
import { firstFrameRgb, meanAbsDiff, thumbnailPixels } from './helpers/frame_compare.js';
import * as fx from './helpers/media_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

describe('pixel aspect from ffprobe', () => {
  it('reads N:D, and leaves out square, unknown and implausible values', () => {
    assert.equal(parsePixelAspect('4:3'), 4 / 3);
    assert.equal(parsePixelAspect('8:9'), 8 / 9);
    for (const sar of ['1:1', '0:1', 'N/A', undefined, '201:200', '1:10', '9:1', '4:0']) assert.equal(parsePixelAspect(sar), undefined, String(sar));
  });
  it('stretches the side the pixels are long on, to an even size, then turns it', () => {
    assert.deepEqual(displaySize(1440, 1080, 4 / 3, false), { width: 1920, height: 1080 });
    assert.deepEqual(displaySize(720, 480, 32 / 27, false), { width: 854, height: 480 }); // DVD 16:9
    assert.deepEqual(displaySize(720, 480, 8 / 9, false), { width: 720, height: 540 }); // DVD 4:3
    assert.deepEqual(displaySize(720, 480, 8 / 9, true), { width: 540, height: 720 });
    assert.deepEqual(displaySize(641, 361, undefined, false), { width: 641, height: 361 });
  });
});

// the square clip's own frame against itself re-encoded differs by about 1 level; a picture off by
// a few pixels or stretched the wrong way by tens
const SAME_PICTURE = 6;

describe('anamorphic videos decode at their display size', () => {
  for (const kind of ['wide', 'tall', 'tall-rotated'] as const) {
    it(`${kind}: probed at 960x640 and decoded (one pass and seeking) as the square-pixel picture`, async () => {
      const info = await probeMedia(fx.pixelAspectClip(kind));
      assert.deepEqual([info.width, info.height], [960, 640]);
      assert.equal(info.pixelAspect, kind === 'wide' ? 4 / 3 : 3 / 4);
      const square = await firstFrameRgb(fx.pixelAspectClip('square'));
      for (const seek of [false, true]) {
        const got = await firstFrameRgb(info.path, { seek });
        assert.equal(got.seeked, seek);
        assert.deepEqual([got.frame.width, got.frame.height], [960, 640]);
        const d = meanAbsDiff(got.rgb, square.rgb);
        assert.ok(d < SAME_PICTURE, `seek ${seek}: mean difference ${d.toFixed(2)} levels`);
        // the detector's preview has the display shape too
        assert.deepEqual([got.frame.preview?.width, got.frame.preview?.height], [square.frame.preview?.width, square.frame.preview?.height]);
      }
    });
  }

  it('square pixels keep their stored size and no pixel aspect', async () => {
    const info = await probeMedia(fx.pixelAspectClip('square'));
    assert.deepEqual([info.width, info.height, info.pixelAspect], [960, 640, undefined]);
  });
});

describe('scanning and pictures of an anamorphic video', () => {
  let scanner: Scanner;
  let square: ScanResult, wide: ScanResult;
  before(async () => {
    scanner = await Scanner.create({ sampling: { kind: 'uniform', count: 4 } });
    square = await scanner.scan(fx.pixelAspectClip('square'));
    wide = await scanner.scan(fx.pixelAspectClip('wide'));
  });
  after(async () => {
    await scanner?.dispose();
  });

  it("finds the same faces, with the same boxes, as in the square-pixel copy", () => {
    assert.equal(square.status, 'ok');
    assert.deepEqual([square.media?.display, wide.media?.display], [[], ['square-pixels']]);
    assert.deepEqual([wide.media?.width, wide.media?.height], [960, 640]);
    assert.equal(wide.tracks.length, square.tracks.length);
    // each face's box in the first sampled frame, left to right
    const boxes = (r: ScanResult) => r.frames.filter((f) => f.frameIndex === r.frames[0].frameIndex).map((f) => f.box).sort((a, b) => a.x - b.x);
    const [a, b] = [boxes(wide), boxes(square)];
    a.forEach((box, i) => assert.ok(iou(box, b[i]) > 0.8, `face ${i}: IoU ${iou(box, b[i]).toFixed(2)}`));
  });

  it('an annotated video is written at the display size', async () => {
    const out = join(tempDir('aspect'), 'wide_annotated.mp4');
    const r = await annotateMedia(wide, out);
    assert.deepEqual([r.width, r.height], [960, 640]);
    const probed = await probeMedia(out);
    assert.deepEqual([probed.width, probed.height, probed.pixelAspect], [960, 640, undefined]);
  });

  it("a face thumbnail is cut from the display-size frame, as from the square-pixel copy's", async () => {
    const box = { x: 300, y: 150, width: 220, height: 260 };
    const square = await thumbnailPixels(await faceThumbnail(fx.pixelAspectClip('square'), 0, box));
    for (const kind of ['wide', 'tall', 'tall-rotated'] as const) {
      const d = meanAbsDiff(await thumbnailPixels(await faceThumbnail(fx.pixelAspectClip(kind), 0, box)), square);
      assert.ok(d < SAME_PICTURE, `${kind}: mean difference ${d.toFixed(2)} levels`);
    }
  });
});
