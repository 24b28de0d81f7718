/** Finding ffmpeg / ffprobe: a PATH lookup that starts no process, and one-line errors for a bad override. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { mediaTools, onPath } from '../src/media/tools.js';
import { noFaceClip } from './helpers/media_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

const here = dirname(fileURLToPath(import.meta.url));

test('onPath finds an executable file in a PATH folder, and not a plain file, a folder or a missing name', () => {
  const dir = tempDir('path');
  writeFileSync(join(dir, 'runme'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dir, 'runme'), 0o755);
  writeFileSync(join(dir, 'plain'), 'not executable');
  chmodSync(join(dir, 'plain'), 0o644);
  mkdirSync(join(dir, 'folder'));
  const path = ['/nonexistent-dir', '', dir].join(delimiter);
  assert.equal(onPath('runme', path), true);
  assert.equal(onPath('plain', path), false);
  assert.equal(onPath('folder', path), false);
  assert.equal(onPath('missing', path), false);
  assert.equal(onPath('runme', ''), false);
});

test('mediaTools finds a runnable ffmpeg with its major version, and an ffprobe', () => {
  const tools = mediaTools();
  assert.ok(tools.ffmpegMajor >= 4, `ffmpeg major ${tools.ffmpegMajor}`);
  assert.equal(spawnSync(tools.ffmpeg, ['-version']).status, 0);
  assert.equal(spawnSync(tools.ffprobe, ['-version']).status, 0);
});

test('UNMASK_FFMPEG naming something that does not run -> that one-line error, not one about the video', () => {
  const cli = resolve(here, '../src/cli/main.js');
  const r = spawnSync(process.execPath, [cli, 'scan', noFaceClip()], {
    encoding: 'utf8',
    env: { ...process.env, UNMASK_FFMPEG: '/nonexistent/ffmpeg' },
  });
  assert.notEqual(r.status, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /UNMASK_FFMPEG=\/nonexistent\/ffmpeg does not run as ffmpeg/);
  assert.doesNotMatch(r.stderr, /\s+at\s/);
});
