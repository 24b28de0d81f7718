import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALIGN_TEMPLATE, DEFAULT_CROP_OPTIONS, cropFace, cropMap, makeFaceCrop, type CropOptions } from '../src/faces/crop.js';
import { applyAffine, invertAffine, type Affine } from '../src/image/affine.js';
import type { Box, FaceDetection, Frame, Keypoints, Point } from '../src/types.js';

const close = (a: number, b: number, eps = 1e-9, msg = '') => assert.ok(Math.abs(a - b) <= eps, `${msg} ${a} != ${b}`);
const closePoint = (p: Point, q: Point, eps = 1e-9, msg = '') => {
  close(p[0], q[0], eps, `${msg} x:`);
  close(p[1], q[1], eps, `${msg} y:`);
};
const closeAffine = (a: Affine, b: Affine, eps = 1e-9) => a.forEach((v, i) => close(v, b[i], eps, `coef ${i}:`));

/** Keypoints laid out plausibly inside the box: eyes, nose, mouth, ears. */
function plausibleKeypoints(b: Box): Keypoints {
  const at = (fx: number, fy: number): Point => [b.x + fx * b.width, b.y + fy * b.height];
  return [at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.55), at(0.5, 0.75), at(0.05, 0.45), at(0.95, 0.45)];
}

function det(box: Box, keypoints: Keypoints = plausibleKeypoints(box), score = 0.9): FaceDetection {
  return { box, keypoints, score };
}

/** Gradient frame: pixel (x, y) = [3x, 5y, x + y]. */
function gradientFrame(w = 64, h = 48): Frame {
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      rgb[o] = 3 * x;
      rgb[o + 1] = 5 * y;
      rgb[o + 2] = x + y;
    }
  return { index: 7, timeMs: 280, width: w, height: h, pixels: { format: 'rgb24', width: w, height: h, data: rgb } };
}

const framePixel = (x: number, y: number) => [3 * x, 5 * y, x + y];
const pixel = (buf: Buffer, w: number, x: number, y: number) => [...buf.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];
const toCrop = (m: Affine, p: Point) => applyAffine(invertAffine(m), p);

const opts = (policy: CropOptions['policy'], size: number, margin = 0.3): CropOptions => ({ policy, size, margin });

describe('cropMap: scale', () => {
  it('a wide box: the square of its longer side, centred on the box', () => {
    // box 80x40 at (100, 50): side 80, centre (140, 70) -> square (100, 30)..(180, 110); size 160 -> 2 px per frame px
    const d = det({ x: 100, y: 50, width: 80, height: 40 });
    const m = cropMap(d, opts('scale', 160));
    closeAffine(m, [0.5, 0, 100, 0, 0.5, 30]);
    closePoint(toCrop(m, [100, 50]), [0, 40]);
    closePoint(toCrop(m, [180, 90]), [160, 120]);
    closePoint(toCrop(m, [140, 70]), [80, 80]); // centre -> crop centre
  });

  it('a tall box: square of the height, centred horizontally', () => {
    // box 30x60 at (10, 20): side 60, centre (25, 50) -> square (-5, 20)..(55, 80); size 60 -> 1:1
    const d = det({ x: 10, y: 20, width: 30, height: 60 });
    const m = cropMap(d, opts('scale', 60));
    closeAffine(m, [1, 0, -5, 0, 1, 20]);
    closePoint(toCrop(m, [10, 20]), [15, 0]);
    closePoint(toCrop(m, [40, 80]), [45, 60]);
  });

  it('ignores the margin option', () => {
    const d = det({ x: 10, y: 20, width: 30, height: 60 });
    assert.deepEqual(cropMap(d, opts('scale', 60, 0)), cropMap(d, opts('scale', 60, 0.5)));
  });
});

describe('cropMap: margin', () => {
  it('a square box with margin 0.3 occupies the central 1/1.6 of the crop', () => {
    // box 100 at (100, 100) grown by 30 each side -> 160 at (70, 70); size 160 -> 1:1
    const d = det({ x: 100, y: 100, width: 100, height: 100 });
    const m = cropMap(d, opts('margin', 160));
    closeAffine(m, [1, 0, 70, 0, 1, 70]);
    closePoint(toCrop(m, [100, 100]), [30, 30]);
    closePoint(toCrop(m, [200, 200]), [130, 130]);
    // At another output size the fraction is the same: 256 / 1.6 = 160 px of box, 48 px each side.
    const m2 = cropMap(d, opts('margin', 256));
    closePoint(toCrop(m2, [100, 100]), [48, 48]);
    closePoint(toCrop(m2, [200, 200]), [208, 208]);
    close((208 - 48) / 256, 1 / 1.6);
  });

  it('margin 0 makes the box fill a square crop', () => {
    const d = det({ x: 40, y: 10, width: 50, height: 50 });
    const m = cropMap(d, opts('margin', 100, 0));
    closePoint(toCrop(m, [40, 10]), [0, 0]);
    closePoint(toCrop(m, [90, 60]), [100, 100]);
  });

  it('a wide box is fitted isotropically and padded equally above and below', () => {
    // box 100x50 at (100, 50); grown: 160x80 at (70, 35); size 80 -> scale 0.5, crop height 40, 20 px pad top and bottom
    const d = det({ x: 100, y: 50, width: 100, height: 50 });
    const m = cropMap(d, opts('margin', 80));
    closeAffine(m, [2, 0, 70, 0, 2, -5]);
    close(m[0], m[4]); // isotropic
    closePoint(toCrop(m, [100, 50]), [15, 27.5]);
    closePoint(toCrop(m, [200, 100]), [65, 52.5]);
    // grown box edges: left/right at the crop border, top/bottom 20 px in
    closePoint(toCrop(m, [70, 35]), [0, 20]);
    closePoint(toCrop(m, [230, 115]), [80, 60]);
    closePoint(toCrop(m, [150, 75]), [40, 40]); // box centre -> crop centre
  });

  it('a tall box is padded equally left and right', () => {
    // box 50x100 at (0, 0); grown: 80x160 at (-15, -30); size 160 -> 1:1, 40 px pad each side
    const d = det({ x: 0, y: 0, width: 50, height: 100 });
    const m = cropMap(d, opts('margin', 160));
    closeAffine(m, [1, 0, -55, 0, 1, -30]);
    closePoint(toCrop(m, [0, 0]), [55, 30]);
    closePoint(toCrop(m, [50, 100]), [105, 130]);
    closePoint(toCrop(m, [-15, -30]), [40, 0]);
    closePoint(toCrop(m, [65, 130]), [120, 160]);
  });

  it('the default options are a 256 px margin crop with margin 0.3', () => {
    assert.deepEqual(DEFAULT_CROP_OPTIONS, { policy: 'margin', size: 256, margin: 0.3 });
  });
});

describe('cropMap: align', () => {
  it('keypoints that are the template translated give a pure translation', () => {
    // size 200: template = eyes (74, 84), (126, 84), mouth (100, 132); shifted by (26, 16)
    const kp: Keypoints = [[100, 100], [152, 100], [125, 120], [126, 148], [60, 110], [190, 110]];
    const m = cropMap(det({ x: 60, y: 70, width: 130, height: 100 }, kp), opts('align', 200));
    closeAffine(m, [1, 0, 26, 0, 1, 16], 1e-9);
  });

  it('after cropFace, eyes and mouth land on the template when the keypoints are a similarity of it', () => {
    const size = 128;
    const s = 1.3, th = 0.25, tx = 200, ty = 150;
    const T: Affine = [s * Math.cos(th), -s * Math.sin(th), tx, s * Math.sin(th), s * Math.cos(th), ty];
    const tpl = ALIGN_TEMPLATE.map(([x, y]) => [x * size, y * size] as Point);
    const nose = applyAffine(T, [0.5 * size, 0.55 * size]);
    const kp: Keypoints = [
      applyAffine(T, tpl[0]),
      applyAffine(T, tpl[1]),
      nose,
      applyAffine(T, tpl[2]),
      applyAffine(T, [0.2 * size, 0.45 * size]),
      applyAffine(T, [0.8 * size, 0.45 * size]),
    ];
    const d = det({ x: 150, y: 150, width: 180, height: 180 }, kp);
    closeAffine(cropMap(d, opts('align', size)), T, 1e-9);
    const frame: Frame = { index: 0, timeMs: 0, width: 400, height: 400, pixels: { format: 'rgb24', width: 400, height: 400, data: Buffer.alloc(400 * 400 * 3, 77) } };
    const crop = cropFace(frame, d, opts('align', size));
    assert.equal(crop.rgb.length, size * size * 3);
    for (const [k, t] of [[0, 0], [1, 1], [3, 2]] as const) {
      const p = crop.keypoints[k], q = tpl[t];
      assert.ok(Math.hypot(p[0] - q[0], p[1] - q[1]) <= 1, `keypoint ${k}: ${p} vs ${q}`);
      closePoint(p, q, 1e-6, `keypoint ${k}`);
    }
    closePoint(crop.keypoints[2], [0.5 * size, 0.55 * size], 1e-6, 'nose');
    // The face is fully inside the frame, so the constant frame gives a constant crop.
    assert.ok(crop.rgb.every((b) => b === 77));
  });

  it('ALIGN_TEMPLATE puts the eyes level and symmetric about the vertical centre line, mouth below', () => {
    const [l, r, m] = ALIGN_TEMPLATE;
    assert.equal(l[1], r[1]);
    close(l[0] + r[0], 1);
    assert.equal(m[0], 0.5);
    assert.ok(m[1] > l[1]);
  });
});

describe('cropFace', () => {
  it('a 1:1 scale crop is an exact window of the frame, keypoints shifted into the crop', () => {
    const frame = gradientFrame();
    const d = det({ x: 10, y: 8, width: 20, height: 20 });
    const size = 20;
    const crop = cropFace(frame, d, opts('scale', size));
    assert.equal(crop.rgb.length, size * size * 3);
    for (let v = 0; v < size; v++)
      for (let u = 0; u < size; u++) assert.deepEqual(pixel(crop.rgb, size, u, v), framePixel(u + 10, v + 8), `(${u}, ${v})`);
    crop.keypoints.forEach((p, k) => closePoint(p, [d.keypoints[k][0] - 10, d.keypoints[k][1] - 8], 1e-9, `kp ${k}`));
  });

  it('keypoints are the detection keypoints mapped by the inverse crop map', () => {
    const frame = gradientFrame();
    const d = det({ x: 12.5, y: 3.25, width: 30, height: 22 });
    for (const policy of ['scale', 'margin', 'align'] as const) {
      const o = opts(policy, 48);
      const inv = invertAffine(cropMap(d, o));
      const crop = cropFace(frame, d, o);
      assert.equal(crop.rgb.length, 48 * 48 * 3, policy);
      crop.keypoints.forEach((p, k) => closePoint(p, applyAffine(inv, d.keypoints[k]), 1e-9, `${policy} kp ${k}`));
    }
  });

  it('a downscaling crop averages the gradient (2x: mean of 2x2 frame pixels)', () => {
    const frame = gradientFrame();
    // box 40 at (10, 4), size 20 -> crop (u, v) covers frame x = 10 + 2u .. 11 + 2u, y = 4 + 2v .. 5 + 2v
    const crop = cropFace(frame, det({ x: 10, y: 4, width: 40, height: 40 }), opts('scale', 20));
    for (const [u, v] of [[0, 0], [5, 7], [19, 19]]) {
      const mx = 10.5 + 2 * u, my = 4.5 + 2 * v;
      // mean of 3x is 3*mx (ends in .5 -> rounds up); mean of 5y is 5*my; mean of x+y is mx+my
      assert.deepEqual(pixel(crop.rgb, 20, u, v), [Math.round(3 * mx), Math.round(5 * my), mx + my], `(${u}, ${v})`);
    }
  });

  it('crop regions outside the frame are black', () => {
    const frame = gradientFrame();
    // box 20 at (-10, -10), 1:1: crop (u, v) reads frame (u - 10, v - 10)
    const crop = cropFace(frame, det({ x: -10, y: -10, width: 20, height: 20 }), opts('scale', 20));
    for (let v = 0; v < 20; v++)
      for (let u = 0; u < 20; u++) {
        const want = u < 10 || v < 10 ? [0, 0, 0] : framePixel(u - 10, v - 10);
        assert.deepEqual(pixel(crop.rgb, 20, u, v), want, `(${u}, ${v})`);
      }
    // margin crop at the bottom-right corner: box 20 at (44, 28), grown to 32 at (38, 22); size 32 -> 1:1
    const m = cropFace(frame, det({ x: 44, y: 28, width: 20, height: 20 }), opts('margin', 32));
    for (let v = 0; v < 32; v++)
      for (let u = 0; u < 32; u++) {
        const x = u + 38, y = v + 22;
        const want = x >= 64 || y >= 48 ? [0, 0, 0] : framePixel(x, y);
        assert.deepEqual(pixel(m.rgb, 32, u, v), want, `margin (${u}, ${v})`);
      }
  });

  it('a box entirely outside the frame gives an all-black crop', () => {
    const crop = cropFace(gradientFrame(), det({ x: 500, y: 500, width: 30, height: 30 }), opts('margin', 16));
    assert.deepEqual(crop.rgb, Buffer.alloc(16 * 16 * 3));
  });

  it('an align crop of template-translated keypoints copies the frame window', () => {
    const frame = gradientFrame(200, 48);
    // size 40: template = eyes (14.8, 16.8), (25.2, 16.8), mouth (20, 26.4); shift by (30, 5)
    const kp: Keypoints = [[44.8, 21.8], [55.2, 21.8], [50, 26], [50, 31.4], [40, 20], [60, 20]];
    const crop = cropFace(frame, det({ x: 35, y: 10, width: 30, height: 30 }, kp), opts('align', 40));
    for (let v = 0; v < 40; v++)
      for (let u = 0; u < 40; u++) {
        const want = framePixel(u + 30, v + 5);
        const got = pixel(crop.rgb, 40, u, v);
        // the fitted map is the translation up to rounding; allow 1 level
        got.forEach((g, ch) => assert.ok(Math.abs(g - want[ch]) <= 1, `(${u}, ${v}) ch ${ch}: ${g} vs ${want[ch]}`));
      }
  });
});

describe('makeFaceCrop', () => {
  it('fills the record from the frame, the options and the detection', () => {
    const frame = gradientFrame();
    const d = det({ x: 10, y: 8, width: 20, height: 20 });
    const fc = makeFaceCrop(frame, d, opts('scale', 20));
    assert.equal(fc.frameIndex, 7);
    assert.equal(fc.timeMs, 280);
    assert.equal(fc.trackId, -1);
    assert.equal(fc.size, 20);
    assert.equal(fc.detection, d);
    assert.deepEqual(fc.rgb, cropFace(frame, d, opts('scale', 20)).rgb);
    assert.equal(makeFaceCrop(frame, d, opts('scale', 20), 3).trackId, 3);
  });
});
