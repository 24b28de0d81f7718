/**
 * Temporary folders for tests, removed when the test process exits (`node --test` runs each test
 * file in a process of its own), so runs of the suite do not pile up media in the system's temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new empty folder `<tmp>/unmask-<prefix>-XXXXXX`, removed with everything in it at exit. */
export function tempDir(prefix: string): string {
  if (made.length === 0) process.once('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const dir = mkdtempSync(join(tmpdir(), `unmask-${prefix}-`));
  made.push(dir);
  return dir;
}
