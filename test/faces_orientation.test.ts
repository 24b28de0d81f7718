/**
 * Faces turned by quarter turns (a video stored sideways without rotation metadata): roll from
 * keypoints, turned maps, the per-video orientation rule, and scans of turned pictures and videos.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { KEPT_ROLL_DEGREES, cropFace, cropMap, straighteningRoll } from '../src/faces/crop.js';
import {
  TURN_EVIDENCE_SCORE,
  TURN_SEARCH_FRAMES,
  UPRIGHT_DEGREES,
  VideoOrientation,
  faceRoll,
  quarterTurns,
  rollOffset,
  turnSquareMap,
  uprightFaces,
  type Look,
  type QuarterTurns,
} from '../src/faces/face_orientation.js';
import { applyAffine, invertAffine, type Affine } from '../src/image/affine.js';
import { Scanner } from '../src/pipeline/scanner.js';
import type { ScanResult } from '../src/pipeline/scan_result.js';
import type { FaceDetection, Frame, Keypoints, Point } from '../src/types.js';
import * as fx from './helpers/media_fixtures.js';

/** Upright keypoints of a face centred at (cx, cy), turned clockwise (on screen) by `deg` about its centre. */
function face(deg: number, score = 0.9, cx = 100, cy = 100): FaceDetection {
  const upright: Point[] = [[-20, -10], [20, -10], [0, 5], [0, 25], [-35, -5], [35, -5]];
  const r = (deg * Math.PI) / 180;
  // clockwise on screen with y down: (x, y) -> (x cos - y sin, x sin + y cos)
  const kp = upright.map(([x, y]) => [cx + x * Math.cos(r) - y * Math.sin(r), cy + x * Math.sin(r) + y * Math.cos(r)] as Point) as Keypoints;
  return { box: { x: cx - 40, y: cy - 40, width: 80, height: 80 }, keypoints: kp, score };
}

describe('roll and quarter turns', () => {
  it('reads the clockwise roll from eyes and mouth', () => {
    for (const deg of [0, 10, -25, 47, 90, 135, -90, 180, -170]) {
      const r = faceRoll(face(deg).keypoints);
      assert.ok(rollOffset(r, 0) - Math.abs(((deg + 540) % 360) - 180) < 1e-9 && Math.abs(((r - deg + 540) % 360) - 180) < 1e-9, `${deg} -> ${r}`);
    }
  });

  it('normalises turns and measures offsets round the circle', () => {
    assert.deepEqual([-1, 0, 4, 5, 2.4].map(quarterTurns), [3, 0, 0, 1, 2]);
    assert.equal(rollOffset(-170, 2), 10);
    assert.equal(rollOffset(170, 2), 10);
    assert.equal(rollOffset(-90, 3), 0);
    assert.equal(rollOffset(90, 3), 180);
  });

  it('counts the faces upright in views turned by k', () => {
    const faces = [face(85), face(5), face(-10), face(120), face(90 + UPRIGHT_DEGREES)];
    assert.equal(uprightFaces(faces, 1), 3);
    assert.equal(uprightFaces(faces, 0), 2);
    assert.equal(uprightFaces(faces, 2), 0);
    assert.equal(uprightFaces([], 0), 0);
    assert.equal(uprightFaces([face(0, 0.7), face(3, 0.8)], 0, 0.75), 1);
  });
});

describe('turnSquareMap', () => {
  const id: Affine = [1, 0, 0, 0, 1, 0];
  it('permutes pixel centres of the square and comes back after four turns', () => {
    // maps take continuous coordinates (pixel i spans [i, i + 1)); a face turned clockwise is shown
    // upright by turning the picture back anticlockwise: the output's top-left pixel is the source's top-right
    assert.deepEqual(applyAffine(turnSquareMap(id, 1, 5), [0.5, 0.5]), [4.5, 0.5]);
    assert.deepEqual(applyAffine(turnSquareMap(id, 2, 5), [0.5, 0.5]), [4.5, 4.5]);
    assert.deepEqual(applyAffine(turnSquareMap(id, 3, 5), [0.5, 0.5]), [0.5, 4.5]);
    assert.deepEqual(applyAffine(turnSquareMap(id, 1, 5), [2.5, 2.5]), [2.5, 2.5], 'the centre stays');
    let m: Affine = [2, 0, 7, 0, 2, -3];
    const start = m;
    for (let i = 0; i < 4; i++) m = turnSquareMap(m, 1, 9);
    m.forEach((v, i) => assert.ok(Math.abs(v - start[i]) < 1e-9));
    assert.equal(turnSquareMap(start, 0, 9), start);
  });

  it('shows a face turned by k upright: its chin points down in the output', () => {
    for (const k of [1, 2, 3] as QuarterTurns[]) {
      const f = face(90 * k);
      const toOut = turnSquareMap(id, k, 200);
      // the map goes output -> source: its inverse takes the source keypoints into the output
      const toOutput = invertAffine(toOut);
      const roll = faceRoll(f.keypoints.map((p) => applyAffine(toOutput, p)) as Keypoints);
      assert.ok(rollOffset(roll, 0) < 1e-6, `k=${k}: roll in the output ${roll}`);
    }
  });
});

describe('turned crops', () => {
  /** Frame whose pixel (x, y) = [x, y, 7]. */
  function frame(w = 60, h = 50): Frame {
    const rgb = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([x, y, 7], (y * w + x) * 3);
    return { index: 0, timeMs: 0, width: w, height: h, pixels: { format: 'rgb24', width: w, height: h, data: rgb } };
  }
  it('cuts the same square, turned: pixel (u, v) of a one-turn crop is (2c - v, u) of the upright one', () => {
    // a 20 px box with 30% margin is a 32 px square: at size 32 every crop pixel is one frame pixel
    const box = { x: 20, y: 15, width: 20, height: 20 };
    const opt = { policy: 'margin' as const, size: 32, margin: 0.3 };
    // the same box, with keypoints upright in the frame and turned a quarter turn
    const upright = cropFace(frame(), { ...face(0, 0.9, 30, 25), box }, opt, 0).rgb;
    const turned = cropFace(frame(), { ...face(90, 0.9, 30, 25), box }, opt, 1).rgb;
    for (let v = 0; v < 32; v++)
      for (let u = 0; u < 32; u++) {
        const o = (v * 32 + u) * 3, src = (u * 32 + (31 - v)) * 3;
        assert.deepEqual([...turned.subarray(o, o + 3)], [...upright.subarray(src, src + 3)], `(${u}, ${v})`);
      }
    const det = { ...face(90, 0.9, 30, 25), box };
    assert.deepEqual(cropMap(det, { ...opt, policy: 'align' }, 1), cropMap(det, { ...opt, policy: 'align' }, 0), 'align follows the keypoints alone');
  });
});

describe('tilted heads', () => {
  it('rolls back only the tilt past the kept roll, beyond the video\'s turns', () => {
    assert.equal(KEPT_ROLL_DEGREES, 15);
    assert.deepEqual([10, -15, 40, -40, 170].map((r) => straighteningRoll(r, 0)), [0, 0, 25, -25, 155]);
    assert.deepEqual([95, 130, 50].map((r) => straighteningRoll(r, 1)), [0, 25, -25]);
    assert.equal(straighteningRoll(-170, 2), 0);
  });

  it('cuts a face tilted 40 degrees with 15 left, and an upright one unrotated', () => {
    const opt = { policy: 'margin' as const, size: 160, margin: 0.3 };
    for (const [deg, turns, left] of [[40, 0, 15], [-60, 0, -15], [130, 1, 15], [8, 0, 8]] as const) {
      const d = face(deg, 0.9, 300, 200);
      const toCrop = invertAffine(cropMap(d, opt, turns));
      const roll = faceRoll(d.keypoints.map((p) => applyAffine(toCrop, p)) as Keypoints);
      assert.ok(Math.abs(roll - left) < 1e-6, `${deg} (turns ${turns}): ${roll} left in the crop`);
    }
    const upright = face(0, 0.9, 300, 200), slight = face(12, 0.9, 300, 200);
    assert.deepEqual(cropMap(slight, opt), cropMap(upright, opt), 'within the kept roll: the same axis-aligned square');
  });
});

describe('VideoOrientation', () => {
  /** A detector stub: what each turn finds, and a log of the looks taken. */
  function stub(byTurn: Partial<Record<QuarterTurns, FaceDetection[]>>, tooSmall = 0) {
    const calls: string[] = [];
    const detect = async (turns: QuarterTurns, search: boolean): Promise<Look> => {
      calls.push(`${turns}${search ? 's' : ''}`);
      return { faces: byTurn[turns] ?? [], tooSmall: turns === 0 ? tooSmall : 0, largestTooSmall: turns === 0 && tooSmall ? 49 : 0 };
    };
    return { calls, detect };
  }

  it('takes no extra look when every face is near upright', async () => {
    const o = new VideoOrientation();
    const s = stub({ 0: [face(5), face(-UPRIGHT_DEGREES + 1)] });
    assert.equal((await o.detect(s.detect)).faces.length, 2);
    await o.detect(s.detect);
    assert.deepEqual(s.calls, ['0', '0']);
    assert.equal(o.turns, 0);
  });

  it('turns when the turned views find more faces, and keeps that turn for later frames', async () => {
    const o = new VideoOrientation();
    // seen upright, a turned face's roll reads short (-55 for -90), and one of three is missed
    const s = stub({ 0: [face(-55), face(-50)], 3: [face(-88), face(-119), face(-41)], 1: [face(45)] });
    assert.equal((await o.detect(s.detect)).faces.length, 3);
    assert.equal(o.turns, 3);
    await o.detect(s.detect);
    // cheap looks at the other turns, then the full views at the turn taken, for this frame and the next
    assert.deepEqual(s.calls, ['0', '1s', '2s', '3s', '3', '3']);
  });

  it('stays upright for a lone head tilted 45 degrees, which no turn sees upright', async () => {
    const o = new VideoOrientation();
    const s = stub({ 0: [face(47)], 1: [face(45)] });
    assert.equal((await o.detect(s.detect)).faces.length, 1);
    assert.equal(o.turns, 0);
    assert.deepEqual(s.calls, ['0', '1s', '2s', '3s']);
  });

  it('stays for a face filling the picture, tilted 35 degrees, that reads upright at every turn', async () => {
    // what BlazeFace read on a DFDC face crop: one face at each turn, keypoints following the view
    const o = new VideoOrientation();
    const s = stub({ 0: [face(-34, 0.81)], 1: [face(111, 0.81)], 2: [face(164, 0.83)], 3: [face(-47, 0.86)] });
    await o.detect(s.detect);
    assert.equal(o.turns, 0);
    // the same reading at the other turns, but the faces here leaning far (a turned face seen upright): turn
    const far = new VideoOrientation();
    await far.detect(stub({ 0: [face(-55, 0.81)], 1: [face(111, 0.81)], 2: [face(164, 0.83)], 3: [face(-88, 0.86)] }).detect);
    assert.equal(far.turns, 3);
  });

  it('judges a view by the faces it sees upright, not by how many it finds', async () => {
    // a picture turned clockwise: views turned twice found three faces, all of them still sideways
    const o = new VideoOrientation();
    const s = stub({ 0: [face(70), face(95)], 1: [face(76), face(100)], 2: [face(91), face(95), face(94)] });
    assert.equal((await o.detect(s.detect)).faces.length, 2);
    assert.equal(o.turns, 1);
  });

  it('turns for one face leaning far that the turned views see upright', async () => {
    const o = new VideoOrientation();
    const s = stub({ 0: [face(-60)], 3: [face(-92)] });
    await o.detect(s.detect);
    assert.equal(o.turns, 3);
  });

  it('searches the other turns, cheaply, on the first frames without faces only', async () => {
    const o = new VideoOrientation();
    const s = stub({});
    for (let i = 0; i < TURN_SEARCH_FRAMES + 2; i++) assert.deepEqual((await o.detect(s.detect)).faces, []);
    const perSearch = ['0', '1s', '2s', '3s'];
    assert.deepEqual(s.calls, [...Array(TURN_SEARCH_FRAMES).fill(perSearch).flat(), '0', '0']);
  });

  it('does not search a frame whose faces were only too small to keep', async () => {
    // a 100 px DFDC face crop: its one face was too small, and a look upside down saw a false one
    const o = new VideoOrientation();
    const s = stub({ 2: [face(153, 0.9)] }, 1);
    const look = await o.detect(s.detect);
    assert.deepEqual([look.faces.length, look.tooSmall, o.turns], [0, 1, 0]);
    await o.detect(s.detect);
    assert.deepEqual(s.calls, ['0', '0']);
  });

  it('counts only confident faces seen at other turns', async () => {
    const o = new VideoOrientation();
    const s = stub({ 2: [face(175, TURN_EVIDENCE_SCORE - 0.01)], 1: [face(80, TURN_EVIDENCE_SCORE)] });
    await o.detect(s.detect);
    assert.equal(o.turns, 1);
    const weak = new VideoOrientation();
    const w = stub({ 0: [face(-60, 0.9)], 3: [face(-90, TURN_EVIDENCE_SCORE - 0.01)] });
    await weak.detect(w.detect);
    assert.equal(weak.turns, 0);
  });

  it('takes a turn a search finds upright, with a full look at it', async () => {
    const o = new VideoOrientation();
    const s = stub({ 2: [face(178)] });
    assert.equal((await o.detect(s.detect)).faces.length, 1);
    assert.equal(o.turns, 2);
    assert.deepEqual(s.calls, ['0', '1s', '2s', '2']);
  });
});

describe('scans of turned faces', () => {
  let scanner: Scanner;
  before(async () => {
    // every member on every frame: under `alternate`, with 4 frames, each member judges a face once, and
    // the default's stack weights (2.7 on its 128 px member) turn one member's 0.045 move on a re-encoded
    // upside-down video into 0.07 of video probability (measured); the members' own scores are checked too
    scanner = await Scanner.create({ sampling: { kind: 'uniform', count: 4 }, memberSchedule: 'every-frame' });
  });
  after(async () => {
    await scanner.dispose();
  });

  type Box = ScanResult['frames'][number]['box'];
  const summary = (r: ScanResult) => ({ faces: r.tracks.length, p: r.probability ?? Number.NaN, warnings: r.warnings, frames: r.frames });
  /** Each member's P(fake) of each face of the first frame, faces ordered left to right as seen upright. */
  const memberScores = (frames: ScanResult['frames'], turns: number) => {
    const first = frames.filter((f) => f.frameIndex === frames[0].frameIndex);
    // where the upright picture's left-to-right axis lies in the stored one, per quarter turn
    const across = [(b: Box) => b.x, (b: Box) => b.y, (b: Box) => -b.x, (b: Box) => -b.y][turns];
    return first.sort((a, b) => across(a.box) - across(b.box)).map((f) => f.modelProbabilities as number[]);
  };

  for (const kind of ['picture', 'video'] as const) {
    test(`a ${kind} stored turned scores as its upright self, with a warning`, async () => {
      const upright = summary(await scanner.scan(fx.turnedFaces(1, 0, kind)));
      assert.equal(upright.faces, 3);
      assert.ok(!upright.warnings.some((w) => w.includes('turned')), upright.warnings.join('; '));
      for (const turns of [1, 2, 3] as const) {
        const r = summary(await scanner.scan(fx.turnedFaces(1, turns, kind)));
        assert.equal(r.faces, 3, `turned ${turns}: every face found`);
        // a photo turned by whole quarter turns has the same pixels; what differs is compression and
        // where the detector's boxes land (measured: within 0.04 on face-api's six sample photos)
        assert.ok(Math.abs(r.p - upright.p) < 0.05, `turned ${turns}: ${r.p.toFixed(3)} against upright ${upright.p.toFixed(3)}`);
        const mine = memberScores(r.frames, turns);
        memberScores(upright.frames, 0).forEach((face, i) =>
          face.forEach((p, m) => assert.ok(Math.abs(mine[i][m] - p) < 0.05, `turned ${turns}, face ${i}, member ${m}: ${mine[i][m].toFixed(3)} against ${p.toFixed(3)}`)),
        );
        const says = turns === 2 ? 'upside down' : turns === 1 ? 'clockwise' : 'anticlockwise';
        assert.ok(r.warnings.some((w) => w.includes(says)), r.warnings.join('; '));
      }
    });
  }
});
