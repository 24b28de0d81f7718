/**
 * `unmask scan --timeline`: the per-frame score chart of one scan written as SVG or PNG. Vega renders
 * the Vega-Lite spec (timeline_spec.ts) to SVG in Node; sharp (librsvg) rasterises that SVG for a PNG.
 * No browser is involved. Vega and Vega-Lite are imported when a timeline is first drawn: imported at
 * start-up they took about 0.4 s of every `unmask` command (some 300 modules), timeline or not.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp from 'sharp';
import type { ScanResult } from '../pipeline/scan_result.js';
import { InvalidOptionError, UnmaskError } from '../util/errors.js';
import { timelineSpec, type TimelineSize } from './timeline_spec.js';

export type { TimelineSize } from './timeline_spec.js';

export const DEFAULT_TIMELINE_SIZE: TimelineSize = { width: 1200, height: 500 };
export const TIMELINE_EXTENSIONS = ['.svg', '.png'];

export class TimelineRenderError extends UnmaskError {
  constructor(message: string) {
    super('TIMELINE_RENDER', message);
  }
}

/** Rejects an output name the timeline cannot be written to (checked before a long scan). */
export function checkTimelineTarget(out: string): void {
  if (!TIMELINE_EXTENSIONS.includes(extname(out).toLowerCase())) {
    throw new InvalidOptionError(`--timeline: the output must end in .png or .svg; got '${out}'`);
  }
}

function checkSize(size: TimelineSize): void {
  for (const k of ['width', 'height'] as const) {
    const v = size[k];
    if (!Number.isInteger(v) || v < 100 || v > 10000) throw new InvalidOptionError(`--timeline: ${k} must be an integer from 100 to 10000; got ${v}`);
  }
}

/** The timeline of `scan` as an SVG document of `size` pixels. */
export async function renderTimelineSvg(scan: ScanResult, size: TimelineSize = DEFAULT_TIMELINE_SIZE): Promise<string> {
  if (scan.status !== 'ok') throw new InvalidOptionError(`cannot draw a timeline of ${scan.file}: the scan failed (${scan.error?.message ?? 'unknown error'})`);
  checkSize(size);
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(timelineSpec(scan, size)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG, exactly `size` pixels (the SVG is drawn at that size; the resize only absorbs rounding). */
export async function svgToPng(svg: string, size: TimelineSize): Promise<Buffer> {
  return sharp(Buffer.from(svg))
    .resize(size.width, size.height, { fit: 'fill' })
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
}

/**
 * Writes the timeline of `scan` to `out`: `.svg` the SVG, `.png` the SVG rasterised at `size`.
 * A NO_FACE scan gives the empty band with a note saying no face was found.
 */
export async function writeTimeline(scan: ScanResult, out: string, size: TimelineSize = DEFAULT_TIMELINE_SIZE): Promise<void> {
  checkTimelineTarget(out);
  const svg = await renderTimelineSvg(scan, size);
  const bytes = extname(out).toLowerCase() === '.png' ? await svgToPng(svg, size) : svg;
  try {
    await writeFile(out, bytes);
  } catch (e) {
    throw new TimelineRenderError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
