/** Several inputs through one Scanner at once (scan_many.ts), and the eval cache's appends under concurrency. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ScanCache } from '../src/eval/eval_runner.js';
import { scanMany } from '../src/pipeline/scan_many.js';
import { Scanner } from '../src/pipeline/scanner.js';
import type { ScanResult } from '../src/pipeline/scan_result.js';
import * as fx from './helpers/media_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

let scanner: Scanner;
let inputs: string[];
before(async () => {
  scanner = await Scanner.create({ sampling: { kind: 'uniform', count: 6 } });
  inputs = [
    await fx.faceClip(),
    fx.emptyFile(),
    fx.facePhoto(2),
    await fx.faceClip({ seconds: 2, width: 480, photo: 3 }),
    fx.noFaceClip(),
    fx.facePhoto(5),
  ];
});
after(async () => {
  await scanner?.dispose();
});

/** What must not depend on how inputs were scheduled: everything but the timings. */
const outcome = (r: ScanResult) => JSON.stringify({ ...r, timings: undefined });

test('two or three at a time give, input by input and in order, what one at a time gives', async () => {
  const one: ScanResult[] = [];
  for (const p of inputs) one.push(await scanner.scan(p));
  assert.equal(one[1].status, 'error', 'the empty file is an error result');
  assert.equal(one[4].verdict, 'NO_FACE');
  assert.ok(one.filter((r) => r.status === 'ok' && r.verdict !== 'NO_FACE').length >= 4);
  for (const jobs of [2, 3]) {
    const seen: number[] = [];
    const many = await scanMany(scanner, inputs, { jobs, onResult: (_, i) => void seen.push(i) });
    assert.deepEqual(many.map(outcome), one.map(outcome), `jobs ${jobs}`);
    assert.deepEqual([...seen].sort(), inputs.map((_, i) => i), `jobs ${jobs}: onResult once per input`);
  }
});

test('scans do overlap: with two jobs a second scan starts before the first has ended', async () => {
  let running = 0, most = 0;
  await scanMany(scanner, [inputs[0], inputs[3], inputs[0]], {
    jobs: 2,
    hooks: () => {
      running++;
      most = Math.max(most, running);
      return {};
    },
    onResult: () => void running--,
  });
  assert.equal(most, 2);
});

test('an unexpected failure stops new scans and is thrown once the running ones end; bad job counts are refused', async () => {
  const started: number[] = [];
  const boom = new Error('a bug in a hook');
  await assert.rejects(
    scanMany(scanner, inputs, {
      jobs: 2,
      hooks: (i) => (started.push(i), {}),
      // the empty file's scan ends at once, while the first clip is still being scanned
      onResult: (_, i) => {
        if (i === 1) throw boom;
      },
    }),
    (e) => e === boom,
  );
  assert.deepEqual(started, [0, 1], 'nothing started after the failure; the first clip was let finish');
  for (const jobs of [0, 1.5]) await assert.rejects(scanMany(scanner, inputs, { jobs }), RangeError);
});

test('the eval cache keeps every line whole when several scans put their results at once', async () => {
  const dir = tempDir('cache');
  const cache = await ScanCache.open(dir, 'f', {});
  const result = (i: number) => ({ schema: 'unmask.scan/1', file: `in${i}`, padding: 'x'.repeat(200_000 + i) }) as unknown as ScanResult;
  await Promise.all(Array.from({ length: 12 }, (_, i) => cache.put(`in${i}`, { size: i, mtimeMs: 1 }, result(i))));
  const lines = readFileSync(cache.file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 12);
  const paths = lines.map((l) => (JSON.parse(l) as { path: string }).path).sort();
  assert.deepEqual(paths, Array.from({ length: 12 }, (_, i) => `in${i}`).sort());
  const reopened = await ScanCache.open(dir, 'f', {});
  assert.equal(reopened.size, 12);
});
