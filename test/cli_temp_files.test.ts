/**
 * The CLI leaves nothing behind in the temp folder: after a scan (no onnxruntime telemetry files),
 * and after Ctrl-C in the middle of decoding (the folder of decoder FIFOs is removed).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as fx from './helpers/media_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** The environment of a CLI run whose temp folder is `tmp`, without a telemetry setting of the caller's. */
function envWithTemp(tmp: string): NodeJS.ProcessEnv {
  const { ORT_DISABLE_TELEMETRY: _, ...env } = process.env;
  return { ...env, TMPDIR: tmp };
}

test('a scan of a video and a picture leaves its temp folder empty (no FIFOs, no onnxruntime telemetry files)', async () => {
  const tmp = tempDir('cli-tmp');
  const r = spawnSync(process.execPath, [cli, 'scan', '--sample', 'uniform:4', await fx.faceClip(), fx.facePhoto()], { encoding: 'utf8', env: envWithTemp(tmp) });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(tmp), []);
});

test('Ctrl-C while decoding: exit 130 with one line, and the temp folder is left empty', async () => {
  const tmp = tempDir('cli-sigint');
  const clips = tempDir('cli-sigint-clips');
  // several 4K clips, so the scan is still running whichever of them is being decoded
  for (let i = 0; i < 4; i++) copyFileSync(fx.fourKClip(), join(clips, `clip${i}.mp4`));
  const child = spawn(process.execPath, [cli, 'scan', clips], { env: envWithTemp(tmp) });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  // the decoder's FIFO folder appears when the first clip starts decoding
  const deadline = Date.now() + 60_000;
  while (!readdirSync(tmp).some((f) => f.startsWith('unmask-fifo-'))) {
    assert.ok(Date.now() < deadline, 'the scan never started decoding');
    await new Promise((res) => setTimeout(res, 20));
  }
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  assert.equal(stderr.trim().split('\n').pop(), 'unmask: interrupted (SIGINT)');
  assert.deepEqual(readdirSync(tmp), []);
});
