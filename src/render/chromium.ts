/**
 * Finds a locally installed Chromium for the few things that need a browser (the HTML report test
 * runs the report's Chart.js charts in it). Never downloads one: playwright-core drives the system's build.
 * Override with UNMASK_CHROMIUM.
 */
import { existsSync } from 'node:fs';
import { ToolMissingError } from '../util/errors.js';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** Path of a Chromium executable, or undefined when none is installed. */
export function findChromium(): string | undefined {
  const env = process.env.UNMASK_CHROMIUM;
  if (env) return existsSync(env) ? env : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Like {@link findChromium} but throws a one-line ToolMissingError saying how to get one. */
export function requireChromium(why: string): string {
  const path = findChromium();
  if (!path) {
    throw new ToolMissingError(`${why} needs Chromium: install it (Debian: apt-get install chromium) or set UNMASK_CHROMIUM to its path`);
  }
  return path;
}
