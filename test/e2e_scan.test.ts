/**
 * End to end with the shipped default model: a clip rendered from a real face photo is scanned
 * through the library and through the CLI; bad inputs give one-line errors and the right exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Scanner } from '../src/pipeline/scanner.js';
import * as fx from './helpers/media_fixtures.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
function unmask(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

let scanner: Scanner;
before(async () => {
  scanner = await Scanner.create({ sampling: { kind: 'uniform', count: 8 } });
});
after(async () => {
  await scanner?.dispose();
});

test('a clip of three real people: three tracks, a verdict and per-frame scores', async () => {
  const r = await scanner.scan(await fx.faceClip());
  assert.equal(r.status, 'ok');
  assert.ok(['FAKE', 'REAL', 'UNCERTAIN'].includes(r.verdict!), `verdict ${r.verdict}`);
  assert.ok(r.probability! >= 0 && r.probability! <= 1);
  assert.equal(r.tracks.length, 3);
  for (const t of r.tracks) assert.equal(t.frames, 8);
  assert.equal(r.frames.length, 24);
  for (const f of r.frames) assert.ok(f.probability >= 0 && f.probability <= 1);
  assert.ok(r.timings.totalMs > 0 && r.timings.detectMs > 0 && r.timings.classifyMs > 0);
});

test('a video without faces is NO_FACE with no probability (not a silent 0.5)', async () => {
  const r = await scanner.scan(fx.noFaceClip());
  assert.equal(r.status, 'ok');
  assert.equal(r.verdict, 'NO_FACE');
  assert.equal(r.probability, null);
});

test('faces too small to judge are left out: NO_FACE with a warning that says why, unless --min-face allows them', () => {
  const parse = (r: ReturnType<typeof unmask>) => JSON.parse(r.stdout).results[0];
  const strict = parse(unmask('scan', '--json', '--sample', 'uniform:4', fx.smallFaceClip()));
  assert.equal(strict.verdict, 'NO_FACE');
  assert.equal(strict.probability, null);
  assert.ok(strict.warnings.some((w: string) => /faces smaller than 60 px left out in 4 sampled frame/.test(w)), strict.warnings.join('; '));
  const lenient = parse(unmask('scan', '--json', '--sample', 'uniform:4', '--min-face', '16', fx.smallFaceClip()));
  assert.notEqual(lenient.verdict, 'NO_FACE');
  assert.ok(lenient.tracks.length >= 1);
  assert.ok(lenient.frames.every((f: { box: { width: number } }) => f.box.width < 60));
});

test('an image and a 4K frame are scanned', async () => {
  const img = await scanner.scan(fx.facePhoto(2));
  assert.equal(img.media?.kind, 'image');
  assert.ok(img.tracks.length >= 1);
  const big = await scanner.scan(fx.fourKImage());
  assert.equal(big.status, 'ok');
  assert.ok(big.tracks.length >= 1, '4K frame: faces found');
});

test('CLI --json prints one document with the documented schema; exit 0', async () => {
  const p = unmask('scan', '--json', '--sample', 'uniform:4', await fx.faceClip());
  assert.equal(p.status, 0, p.stderr);
  const doc = JSON.parse(p.stdout);
  assert.equal(doc.schema, 'unmask.scan-batch/1');
  assert.equal(doc.results[0].schema, 'unmask.scan/1');
  assert.equal(doc.results[0].tracks.length, 3);
});

test('CLI: unusable input gives one line on stderr and exit 2, no stack trace', async () => {
  const p = unmask('scan', fx.textAsMp4());
  assert.equal(p.status, 2);
  const lines = p.stderr.trim().split('\n');
  assert.equal(lines.length, 1, p.stderr);
  assert.match(lines[0], /^unmask: not a readable video or image/);
  assert.doesNotMatch(p.stderr, /\n\s+at /);
});

test('CLI: a bad file in a batch gets an error row, the batch goes on, exit 1; CSV has no made-up label', async () => {
  const p = unmask('scan', '--csv', '--sample', 'uniform:2', await fx.faceClip(), fx.emptyFile(), fx.noFaceClip());
  assert.equal(p.status, 1, p.stderr);
  const rows = p.stdout.trim().split('\n');
  assert.equal(rows[0], 'filename,label,verdict');
  assert.equal(rows.length, 4);
  assert.match(rows[1], /^face_1_960_2s\.mp4,0\.\d{6},(FAKE|REAL|UNCERTAIN)$/);
  assert.match(rows[2], /^empty\.mp4,,ERROR: file is empty/);
  assert.equal(rows[3], 'no_face.mp4,,NO_FACE');
});

test('CLI: --missing-label puts the number asked for where there is no probability; the verdict still says why', async () => {
  const p = unmask('scan', '--csv', '--missing-label', '0.5', fx.emptyFile(), fx.noFaceClip());
  assert.equal(p.status, 1, p.stderr);
  const rows = p.stdout.trim().split('\n');
  assert.equal(rows[1].split(',').slice(0, 2).join(','), 'empty.mp4,0.500000');
  assert.match(rows[1], /,ERROR: file is empty/);
  assert.equal(rows[2], 'no_face.mp4,0.500000,NO_FACE');
  for (const args of [['--missing-label', '1.5', '--csv'], ['--missing-label', '0.5']]) {
    const q = unmask('scan', ...args, fx.noFaceClip());
    assert.equal(q.status, 2, args.join(' '));
    assert.match(q.stderr.trim(), /^unmask: --missing-label (must be a number in \[0, 1\]|goes with --csv)/);
  }
});

test('CLI: bad options are one-line errors', async () => {
  const p = unmask('scan', '--sample', 'uniform:0', await fx.faceClip());
  assert.equal(p.status, 2);
  assert.match(p.stderr.trim(), /^unmask: uniform count must be a positive integer/);
  const q = unmask('scan', '--strategy', 'median', await fx.faceClip());
  assert.equal(q.status, 2);
  assert.match(q.stderr.trim(), /--strategy must be one of/);
  const j = unmask('scan', '--jobs', '0', await fx.faceClip());
  assert.equal(j.status, 2);
  assert.equal(j.stderr.trim().split('\n').length, 1);
  assert.match(j.stderr.trim(), /^unmask: --jobs/);
});
