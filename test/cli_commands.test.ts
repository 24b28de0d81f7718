/** The command line's wiring (src/cli/main.ts): every command listed, and only the one run is imported. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/temp_dir.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const moduleLog = fileURLToPath(new URL('./helpers/module_log.js', import.meta.url));
const COMMANDS = ['scan', 'demo', 'extract', 'eval', 'index', 'train', 'export-model', 'report', 'models'];

const unmask = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

test('the help lists every command, and each command has its own', () => {
  const help = unmask(['--help']);
  assert.equal(help.status, 0, help.stderr);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'), `${c} listed`);
  for (const args of [['scan', '--help'], ['help', 'eval']]) {
    const own = unmask(args);
    assert.equal(own.status, 0, own.stderr);
    assert.match(own.stdout, new RegExp(`^Usage: unmask ${args[0] === 'help' ? args[1] : args[0]} `), args.join(' '));
  }
  const bad = unmask(['bogus']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown command 'bogus'/);
});

test('a command imports its own modules only: `scan` loads no evaluation code and no chart library', () => {
  const dir = tempDir('unmask-modules-');
  const log = join(dir, 'modules.txt');
  const p = spawnSync(process.execPath, ['--import', moduleLog, cli, 'scan', '--help'], {
    encoding: 'utf8',
    env: { ...process.env, UNMASK_MODULE_LOG: log },
  });
  assert.equal(p.status, 0, p.stderr);
  const loaded = readFileSync(log, 'utf8').split('\n');
  assert.ok(loaded.some((u) => u.endsWith('/src/cli/scan_command.js')), 'the scan command loaded');
  // vega and vega-lite are imported when a timeline is drawn; the other commands' modules when they run
  const unwanted = loaded.filter((u) => /node_modules\/vega|\/src\/cli\/(eval|index|extract|report)_command\.js|\/src\/eval\/|\/src\/report\/html_report\.js/.test(u));
  assert.deepEqual(unwanted, []);
});
