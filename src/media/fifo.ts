/** Named pipes (FIFOs) for ffmpeg's raw output, where the platform has them. */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let counter = 0;

/**
 * A FIFO's two ends, both open: `write` to give ffmpeg as its stdout, `read` (blocking) for the
 * reader; undefined where `mkfifo` is missing (Windows) or fails. Both are opened before ffmpeg
 * starts, so no open() can wait for a process that never came up, and once the caller closes its
 * copy of `write` after spawning, `read` sees end-of-file exactly when ffmpeg exits. The path is
 * removed at once: the open ends keep the pipe alive.
 */
export function openFifo(): { read: number; write: number } | undefined {
  const path = join(tmpdir(), `unmask-decode-${process.pid}-${++counter}.fifo`);
  try {
    if (spawnSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' }).status !== 0) return undefined;
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
