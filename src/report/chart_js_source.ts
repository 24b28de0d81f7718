/** The Chart.js UMD bundle, read from the installed package, for inlining into self-contained HTML pages. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ToolMissingError } from '../util/errors.js';

let cached: string | undefined;

/** Path of `chart.js/dist/chart.umd.js` (the package's exports map hides it, so resolve the main entry's folder). */
export function chartJsUmdPath(): string {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return join(dirname(main), 'chart.umd.js');
}

/** Source of the UMD build (defines the global `Chart`), safe to put inside a `<script>` element. */
export async function chartJsUmdSource(): Promise<string> {
  if (cached) return cached;
  let src: string;
  try {
    src = await readFile(chartJsUmdPath(), 'utf8');
  } catch {
    throw new ToolMissingError('chart.js is not installed (reinstall unmask\'s dependencies)');
  }
  // "</script" would end the inline element early; in JS source it can only occur inside a string or regex.
  cached = src.replace(/<\/script/gi, '<\\/script');
  return cached;
}
