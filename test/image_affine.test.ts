import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  affineScale,
  applyAffine,
  invertAffine,
  scaleTranslate,
  similarityFromPoints,
  warpAffineRGB,
  type Affine,
} from '../src/image/affine.js';
import type { Point } from '../src/types.js';

const close = (a: number, b: number, eps = 1e-9, msg = '') => assert.ok(Math.abs(a - b) <= eps, `${msg} ${a} != ${b}`);
const closeAffine = (a: Affine, b: Affine, eps = 1e-9) => a.forEach((v, i) => close(v, b[i], eps, `coef ${i}:`));

/** Deterministic pseudo-random bytes (LCG), so failures reproduce. */
function randomImage(w: number, h: number, seed = 1): Buffer {
  const buf = Buffer.alloc(w * h * 3);
  let s = seed >>> 0;
  for (let i = 0; i < buf.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    buf[i] = s >>> 24;
  }
  return buf;
}

function makeImage(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const buf = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = px(x, y);
      const o = (y * w + x) * 3;
      buf[o] = r;
      buf[o + 1] = g;
      buf[o + 2] = b;
    }
  return buf;
}

const pixel = (buf: Buffer, w: number, x: number, y: number) => [...buf.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];

/** Composition: (m o n)(p) = m(n(p)). */
function compose(m: Affine, n: Affine): Affine {
  return [
    m[0] * n[0] + m[1] * n[3],
    m[0] * n[1] + m[1] * n[4],
    m[0] * n[2] + m[1] * n[5] + m[2],
    m[3] * n[0] + m[4] * n[3],
    m[3] * n[1] + m[4] * n[4],
    m[3] * n[2] + m[4] * n[5] + m[5],
  ];
}

describe('applyAffine', () => {
  it('computes x = a*u + b*v + c, y = d*u + e*v + f', () => {
    // (2, 3) -> (1*2 + 2*3 + 3, 4*2 + 5*3 + 6) = (11, 29)
    assert.deepEqual(applyAffine([1, 2, 3, 4, 5, 6], [2, 3]), [11, 29]);
    assert.deepEqual(applyAffine([1, 0, 0, 0, 1, 0], [7.5, -2]), [7.5, -2]);
  });
});

describe('invertAffine', () => {
  it('inverts a hand-checked map', () => {
    // x = 2u + 5, y = 4v - 8  =>  u = x/2 - 2.5, v = y/4 + 2
    closeAffine(invertAffine([2, 0, 5, 0, 4, -8]), [0.5, 0, -2.5, 0, 0.25, 2], 1e-15);
  });

  it('round trips points and composes to the identity', () => {
    const m: Affine = [1.3, -0.4, 12, 0.7, 0.9, -5];
    const inv = invertAffine(m);
    closeAffine(compose(m, inv), [1, 0, 0, 0, 1, 0], 1e-12);
    closeAffine(compose(inv, m), [1, 0, 0, 0, 1, 0], 1e-12);
    for (const p of [[0, 0], [10, -3], [123.25, 456.5]] as Point[]) {
      const q = applyAffine(inv, applyAffine(m, p));
      close(q[0], p[0], 1e-9);
      close(q[1], p[1], 1e-9);
    }
    closeAffine(invertAffine(inv), m, 1e-12);
  });

  it('throws for a singular map', () => {
    assert.throws(() => invertAffine([1, 2, 0, 2, 4, 0]), /not invertible/);
    assert.throws(() => invertAffine([0, 0, 1, 0, 0, 1]), /not invertible/);
  });
});

describe('scaleTranslate', () => {
  it('places the source rectangle at the offset with the given scale', () => {
    // output (offsetU, offsetV) -> source (srcX, srcY); one source pixel spans `scale` output pixels
    const m = scaleTranslate(2, 100, 50, 10, 20);
    assert.deepEqual(applyAffine(m, [10, 20]), [100, 50]);
    assert.deepEqual(applyAffine(m, [30, 40]), [110, 60]);
    assert.deepEqual(m, [0.5, 0, 95, 0, 0.5, 40]);
  });
  it('defaults the offset to 0', () => {
    assert.deepEqual(scaleTranslate(4, 8, 12), [0.25, 0, 8, 0, 0.25, 12]);
  });
});

describe('affineScale', () => {
  it('is the geometric mean of the axis scales, ignoring rotation and translation', () => {
    close(affineScale([2, 0, 5, 0, 8, 7]), 4);
    const s = 3, t = 0.7;
    close(affineScale([s * Math.cos(t), -s * Math.sin(t), 1, s * Math.sin(t), s * Math.cos(t), 2]), 3, 1e-12);
    close(affineScale([-2, 0, 0, 0, 2, 0]), 2); // reflection: |det|
  });
});

describe('similarityFromPoints', () => {
  const s = 1.7, theta = 0.6, tx = 12.5, ty = -3.25;
  const truth: Affine = [s * Math.cos(theta), -s * Math.sin(theta), tx, s * Math.sin(theta), s * Math.cos(theta), ty];

  it('recovers a known rotation + scale + translation from 3 points', () => {
    const from: Point[] = [[10, 20], [60, 25], [35, 80]];
    const to = from.map((p) => applyAffine(truth, p));
    const m = similarityFromPoints(from, to);
    closeAffine(m, truth, 1e-9);
    from.forEach((p, i) => {
      const q = applyAffine(m, p);
      close(q[0], to[i][0], 1e-9);
      close(q[1], to[i][1], 1e-9);
    });
  });

  it('recovers it from many points, and from 2', () => {
    const from: Point[] = [[0, 0], [100, 0], [0, 100], [50, 50], [-30, 70], [11, -9]];
    closeAffine(similarityFromPoints(from, from.map((p) => applyAffine(truth, p))), truth, 1e-9);
    const two: Point[] = [[0, 0], [10, 0]];
    closeAffine(similarityFromPoints(two, two.map((p) => applyAffine(truth, p))), truth, 1e-9);
  });

  it('identical point sets give the identity', () => {
    const pts: Point[] = [[1, 2], [5, 9], [-3, 4]];
    closeAffine(similarityFromPoints(pts, pts), [1, 0, 0, 0, 1, 0], 1e-12);
  });

  it('a pure translation is recovered', () => {
    const from: Point[] = [[0, 0], [4, 0], [0, 4]];
    closeAffine(similarityFromPoints(from, from.map(([x, y]) => [x + 7, y - 2] as Point)), [1, 0, 7, 0, 1, -2], 1e-12);
  });

  it('is a least-squares fit with no reflection: a mirrored set gives a proper similarity (det > 0 or 0)', () => {
    const from: Point[] = [[0, 0], [10, 0], [0, 10]];
    const to = from.map(([x, y]) => [-x, y] as Point);
    const m = similarityFromPoints(from, to);
    assert.ok(m[0] * m[4] - m[1] * m[3] >= 0);
    close(m[0], m[4], 1e-12);
    close(m[1], -m[3], 1e-12);
  });

  it('throws for degenerate (identical) source points', () => {
    assert.throws(() => similarityFromPoints([[5, 5], [5, 5], [5, 5]], [[0, 0], [1, 0], [0, 1]]), /degenerate/);
    assert.throws(() => similarityFromPoints([[3, 4]], [[0, 0]]), /degenerate/);
  });
});

describe('warpAffineRGB', () => {
  it('the identity map copies a random image exactly', () => {
    const w = 13, h = 9;
    const src = randomImage(w, h, 42);
    const out = warpAffineRGB(src, w, h, [1, 0, 0, 0, 1, 0], w, h);
    assert.equal(out.length, w * h * 3);
    assert.deepEqual(out, src);
  });

  it('an integer translation copies a shifted window, black where it leaves the source', () => {
    const w = 8, h = 6;
    const src = randomImage(w, h, 7);
    // output (u, v) reads source (u + 3, v - 2)
    const out = warpAffineRGB(src, w, h, [1, 0, 3, 0, 1, -2], w, h);
    for (let v = 0; v < h; v++)
      for (let u = 0; u < w; u++) {
        const x = u + 3, y = v - 2;
        const expected = x < w && y >= 0 ? pixel(src, w, x, y) : [0, 0, 0];
        assert.deepEqual(pixel(out, w, u, v), expected, `(${u}, ${v})`);
      }
  });

  it('a 2x upscale of a constant image stays constant in the interior; the border fades into the black padding', () => {
    const w = 6, h = 4, c: [number, number, number] = [200, 100, 40];
    const src = makeImage(w, h, () => c);
    const out = warpAffineRGB(src, w, h, [0.5, 0, 0, 0, 0.5, 0], 2 * w, 2 * h);
    assert.equal(out.length, 2 * w * 2 * h * 3);
    for (let v = 1; v < 2 * h - 1; v++) for (let u = 1; u < 2 * w - 1; u++) assert.deepEqual(pixel(out, 2 * w, u, v), c, `(${u}, ${v})`);
    // Output pixel 0 samples source x = 0.25 - 0.5 = -0.25: 75% of pixel 0, 25% of the black outside.
    assert.deepEqual(pixel(out, 2 * w, 0, 3), [150, 75, 30]);
    assert.deepEqual(pixel(out, 2 * w, 2 * w - 1, 3), [150, 75, 30]);
    // Corner: 0.75 * 0.75 = 0.5625 -> 112.5 -> 113 (round half up), 56.25 -> 56, 22.5 -> 23
    assert.deepEqual(pixel(out, 2 * w, 0, 0), [113, 56, 23]);
  });

  it('a 2x upscale interpolates linearly between source pixels', () => {
    // 2x1 source: 0 and 200. Output pixel 1 samples x = 0.75 - 0.5 = 0.25 -> 50; pixel 2: x = 0.75 -> 150.
    const src = makeImage(2, 1, (x) => (x === 0 ? [0, 0, 0] : [200, 200, 200]));
    const out = warpAffineRGB(src, 2, 1, [0.5, 0, 0, 0, 1, 0], 4, 1);
    assert.deepEqual(pixel(out, 4, 1, 0), [50, 50, 50]);
    assert.deepEqual(pixel(out, 4, 2, 0), [150, 150, 150]);
  });

  it('pixels mapped entirely outside the source are black (axis-aligned and rotated paths)', () => {
    const w = 8, h = 8;
    const src = makeImage(w, h, () => [255, 255, 255]);
    const far = warpAffineRGB(src, w, h, [1, 0, 100, 0, 1, 100], 4, 4);
    assert.deepEqual(far, Buffer.alloc(4 * 4 * 3));
    const rotFar = warpAffineRGB(src, w, h, [0, 1, -100, -1, 0, 100], 4, 4);
    assert.deepEqual(rotFar, Buffer.alloc(4 * 4 * 3));
    const negFar = warpAffineRGB(src, w, h, [0.7, -0.7, -50, 0.7, 0.7, -50], 4, 4);
    assert.deepEqual(negFar, Buffer.alloc(4 * 4 * 3));
  });

  it('downscaling by 4 a 2x2 checkerboard of 8x8 blocks gives the block colours (supersampled path)', () => {
    const colours: [number, number, number][][] = [
      [[255, 0, 0], [0, 255, 0]],
      [[0, 0, 255], [250, 250, 250]],
    ];
    const src = makeImage(16, 16, (x, y) => colours[y >> 3][x >> 3]);
    const out = warpAffineRGB(src, 16, 16, [4, 0, 0, 0, 4, 0], 4, 4);
    assert.equal(out.length, 4 * 4 * 3);
    for (let v = 0; v < 4; v++)
      for (let u = 0; u < 4; u++) {
        const want = colours[v >> 1][u >> 1];
        const got = pixel(out, 4, u, v);
        got.forEach((g, ch) => assert.ok(Math.abs(g - want[ch]) <= 1, `(${u}, ${v}) ch ${ch}: ${g} vs ${want[ch]}`));
      }
  });

  it('downscaling averages fine detail instead of aliasing it', () => {
    // 1-pixel checkerboard of 0 and 255: a single bilinear tap per output pixel would hit only one
    // colour; a 4x4 average is 127.5 -> 128.
    const src = makeImage(16, 16, (x, y) => ((x + y) & 1 ? [255, 255, 255] : [0, 0, 0]));
    const out = warpAffineRGB(src, 16, 16, [4, 0, 0, 0, 4, 0], 4, 4);
    for (const b of out) assert.equal(b, 128);
    // Whole image into one pixel: the 2x2 block checkerboard mean.
    const blocks = makeImage(16, 16, (x, y) => (((x >> 3) + (y >> 3)) & 1 ? [255, 0, 100] : [0, 255, 100]));
    const one = warpAffineRGB(blocks, 16, 16, [16, 0, 0, 0, 16, 0], 1, 1);
    assert.deepEqual(pixel(one, 1, 0, 0), [128, 128, 100]);
  });

  it('downscaling by 4 sees every source pixel: thin lines every 4th row/column average to 1/4 intensity', () => {
    // A single bilinear tap per output pixel (x = 4u + 1.5) would never touch columns 4u and miss the lines.
    const src = makeImage(16, 16, (x, y) => [x % 4 === 0 ? 255 : 0, y % 4 === 0 ? 255 : 0, 0]);
    const out = warpAffineRGB(src, 16, 16, [4, 0, 0, 0, 4, 0], 4, 4);
    // 4 of 16 samples are 255: 63.75 -> 64
    for (let v = 0; v < 4; v++) for (let u = 0; u < 4; u++) assert.deepEqual(pixel(out, 4, u, v), [64, 64, 0], `(${u}, ${v})`);
  });

  it('a rotated map sampling half a pixel past the edges blends with black, never with other rows', () => {
    // 90 degree rotation shifted by half a pixel on both axes: out(u, v) samples x = v - 0.5,
    // y = H - 0.5 - u, the mean of source pixels x in {v - 1, v}, y in {H - 1 - u, H - u}; taps outside are black.
    const W = 5, H = 3;
    const src = randomImage(W, H, 5);
    const out = warpAffineRGB(src, W, H, [0, 1, -0.5, -1, 0, H + 0.5], H, W);
    const at = (x: number, y: number, ch: number) => (x >= 0 && x < W && y >= 0 && y < H ? src[(y * W + x) * 3 + ch] : 0);
    for (let v = 0; v < W; v++)
      for (let u = 0; u < H; u++)
        for (let ch = 0; ch < 3; ch++) {
          const y = H - 1 - u;
          const sum = at(v - 1, y, ch) + at(v, y, ch) + at(v - 1, y + 1, ch) + at(v, y + 1, ch);
          assert.equal(out[(v * H + u) * 3 + ch], Math.floor(sum / 4 + 0.5), `(${u}, ${v}) ch ${ch}`);
        }
  });

  it('rotating by 90 degrees about the centre matches a manual rotation (bilinear path)', () => {
    // Asymmetric 5x3 image; rotate clockwise into a 3x5 output:
    // out(u, v) = src(x = v, y = H - 1 - u). In pixel-centre coordinates the map is
    // x = V, y = H - U, i.e. [0, 1, 0, -1, 0, H] (a rotation about the centres of both images).
    const W = 5, H = 3;
    const src = randomImage(W, H, 99);
    const out = warpAffineRGB(src, W, H, [0, 1, 0, -1, 0, H], H, W);
    assert.equal(out.length, W * H * 3);
    for (let v = 0; v < W; v++)
      for (let u = 0; u < H; u++) {
        const want = pixel(src, W, v, H - 1 - u);
        const got = pixel(out, H, u, v);
        got.forEach((g, ch) => assert.ok(Math.abs(g - want[ch]) <= 1, `(${u}, ${v}) ch ${ch}: ${g} vs ${want[ch]}`));
      }
    // Integer-aligned taps: every pixel is in fact exact.
    const manual = Buffer.alloc(W * H * 3);
    for (let v = 0; v < W; v++) for (let u = 0; u < H; u++) pixel(src, W, v, H - 1 - u).forEach((c, ch) => (manual[(v * H + u) * 3 + ch] = c));
    assert.deepEqual(out, manual);
  });

  it('a rotation by 90 degrees composed with a 2x downscale (rotated supersampled path)', () => {
    // 8x4 image of 2x2 constant blocks; map scale 2 + rotation -> 2x4 output, each pixel one block.
    const W = 8, H = 4;
    const blockColour = (bx: number, by: number): [number, number, number] => [bx * 60, by * 120, 10 + bx + 4 * by];
    const src = makeImage(W, H, (x, y) => blockColour(x >> 1, y >> 1));
    const out = warpAffineRGB(src, W, H, [0, 2, 0, -2, 0, H], H / 2, W / 2);
    for (let v = 0; v < W / 2; v++)
      for (let u = 0; u < H / 2; u++) assert.deepEqual(pixel(out, H / 2, u, v), blockColour(v, H / 2 - 1 - u), `(${u}, ${v})`);
  });

  it('a 45 degree rotation of a constant image keeps the interior constant', () => {
    const W = 20, H = 20, c: [number, number, number] = [90, 180, 30];
    const src = makeImage(W, H, () => c);
    const cos = Math.SQRT1_2;
    // rotate about the centre (10, 10): x = cos*(u-10) - sin*(v-10) + 10, ...
    const map: Affine = [cos, -cos, 10 - cos * 10 + cos * 10, cos, cos, 10 - cos * 10 - cos * 10];
    const out = warpAffineRGB(src, W, H, map, W, H);
    for (let v = 0; v < H; v++)
      for (let u = 0; u < W; u++) {
        const [x, y] = applyAffine(map, [u + 0.5, v + 0.5]);
        if (x >= 1 && y >= 1 && x <= W - 1 && y <= H - 1) assert.deepEqual(pixel(out, W, u, v), c, `(${u}, ${v})`);
        else if (x < -1 || y < -1 || x > W + 1 || y > H + 1) assert.deepEqual(pixel(out, W, u, v), [0, 0, 0], `(${u}, ${v})`);
      }
    // The corners of the output lie outside the rotated square: black.
    assert.deepEqual(pixel(out, W, 0, 0), [0, 0, 0]);
    assert.deepEqual(pixel(out, W, 10, 10), c);
  });

  it('does not modify the source buffer', () => {
    const src = randomImage(6, 6, 3);
    const copy = Buffer.from(src);
    warpAffineRGB(src, 6, 6, [0.3, 0.2, 1, -0.2, 0.3, 2], 10, 10);
    warpAffineRGB(src, 6, 6, [3, 0, 0, 0, 3, 0], 2, 2);
    assert.deepEqual(src, copy);
  });
});

it('a whole-pixel shift (letterboxing) equals the bilinear warp: row copies, black outside', () => {
  const w = 7, h = 5;
  const src = Buffer.alloc(w * h * 3);
  for (let i = 0; i < src.length; i++) src[i] = (i * 37) % 251;
  for (const [dx, dy] of [[0, -2], [-3, 1], [2, 0], [9, 0]]) {
    const fast = warpAffineRGB(src, w, h, [1, 0, dx, 0, 1, dy], 8, 8);
    const slow = warpAffineRGB(src, w, h, [1, 1e-13, dx, 0, 1, dy], 8, 8); // not axis-aligned: bilinear path
    assert.deepEqual([...fast], [...slow], `shift ${dx},${dy}`);
  }
});
