/** `unmask scan --annotate / --timeline`: pictures of one scan, written after it. */
import { annotateMedia, checkAnnotateTarget } from '../render/annotate_video.js';
import { checkTimelineTarget, writeTimeline } from '../render/timeline.js';
import type { ScanResult } from '../pipeline/scan_result.js';
import { InvalidOptionError } from '../util/errors.js';

export interface ScanVisualOptions {
  annotate?: string;
  timeline?: string;
}

/** Before scanning: one input only, and output names that can be written. */
export function checkScanVisuals(o: ScanVisualOptions, inputCount: number): void {
  if (!o.annotate && !o.timeline) return;
  const flags = [o.annotate && '--annotate', o.timeline && '--timeline'].filter(Boolean).join(' and ');
  if (inputCount !== 1) throw new InvalidOptionError(`${flags} need exactly one input; got ${inputCount}`);
  if (o.annotate) checkAnnotateTarget(o.annotate);
  if (o.timeline) checkTimelineTarget(o.timeline);
}

/** After scanning: writes what was asked for (nothing for a failed scan, whose error is reported already). */
export async function writeScanVisuals(result: ScanResult, o: ScanVisualOptions): Promise<void> {
  if (result.status !== 'ok') return;
  if (o.annotate) {
    const a = await annotateMedia(result, o.annotate);
    process.stderr.write(`wrote ${a.out} (${a.kind === 'video' ? `${a.frames} frames` : 'image'}, ${result.tracks.length} tracks)\n`);
  }
  if (o.timeline) {
    await writeTimeline(result, o.timeline);
    process.stderr.write(`wrote ${o.timeline}\n`);
  }
}
