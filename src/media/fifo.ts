/** Named pipes (FIFOs) for ffmpeg's raw output, where the platform has them. */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * FIFOs are made in batches by one `mkfifo` call: starting a process costs ~17 ms of the main
 * thread in a scanning process (its page tables are copied), as much as a tenth of a scan's CPU.
 * Each path is still used once and removed as soon as it is open.
 */
const BATCH = 16;
const ready: string[] = [];
let dir: string | undefined;
let counter = 0;

function makeBatch(): boolean {
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'unmask-fifo-'));
    const made = dir;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const paths = Array.from({ length: BATCH }, () => join(dir!, `decode-${++counter}.fifo`));
  if (spawnSync('mkfifo', ['-m', '600', ...paths], { stdio: 'ignore' }).status !== 0) {
    for (const p of paths) rmSync(p, { force: true });
    return false;
  }
  ready.push(...paths);
  return true;
}

/** Makes the first batch of FIFOs ahead of the first decode (Scanner.open, while the models load). */
export function prewarmFifos(): void {
  try {
    if (ready.length === 0) makeBatch();
  } catch {
    // openFifo tries again, and falls back to a pipe
  }
}

/**
 * A FIFO's two ends, both open: `write` to give ffmpeg as its stdout, `read` (blocking) for the
 * reader; undefined where `mkfifo` is missing (Windows) or fails. Both are opened before ffmpeg
 * starts, so no open() can wait for a process that never came up, and once the caller closes its
 * copy of `write` after spawning, `read` sees end-of-file exactly when ffmpeg exits. The path is
 * removed at once: the open ends keep the pipe alive.
 */
export function openFifo(): { read: number; write: number } | undefined {
  try {
    if (ready.length === 0 && !makeBatch()) return undefined;
  } catch {
    return undefined;
  }
  const path = ready.shift()!;
  try {
    const probe = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK); // never blocks
    const write = openSync(path, constants.O_WRONLY); // a reader exists: returns at once
    const read = openSync(path, constants.O_RDONLY); // a writer exists: returns at once
    closeSync(probe);
    return { read, write };
  } catch {
    return undefined;
  } finally {
    rmSync(path, { force: true });
  }
}
