/**
 * The score timeline of one scan as a Vega-Lite spec: calibrated P(FAKE) of every sampled frame, one
 * line (with a point per frame) per face track, over the video's time, drawn on the decision band
 * (REAL / UNCERTAIN / FAKE zones shaded in the annotate overlay's green / amber / red). Pure data:
 * timeline.ts renders it to SVG with Vega in Node, no browser.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Verdict } from '../aggregate/verdict.js';
import type { ScanResult } from '../pipeline/scan_result.js';
import { seriesColour } from '../report/charts.js';
import { hexColour, VERDICT_COLOURS } from './track_overlay.js';

type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];
type Encoding = NonNullable<Extract<Layer, { mark: unknown }>['encoding']>;

export interface TimelineSize {
  width: number;
  height: number;
}

/** One sampled face score: time (s), P(FAKE), and the series it belongs to. */
export interface TimelinePoint {
  t: number;
  p: number;
  trackId: number;
  track: string;
}

/** One shaded zone of the decision band: P(FAKE) from `from` to `to`. */
export interface TimelineZone {
  zone: Exclude<Verdict, 'NO_FACE'>;
  from: number;
  to: number;
  colour: string;
  label: string;
}

/** Series label of a track (also its legend entry). */
export function trackSeriesLabel(trackId: number, probability: number): string {
  return `track ${trackId} (P(fake) ${probability.toFixed(2)})`;
}

/** Opacity of the zone shading: light enough that every track colour stays readable on it. */
export const ZONE_OPACITY = 0.16;

/** The zone colour darkened for its label, so amber text stays readable on the light shading. */
function darker(rgb: readonly number[]): string {
  return hexColour(rgb.map((c) => Math.round(c * 0.7)));
}

/** The three zones, bottom to top; an empty UNCERTAIN zone (realBelow === fakeAbove) is left out. */
export function timelineZones(band: ScanResult['band']): TimelineZone[] {
  const zones: TimelineZone[] = [
    { zone: 'REAL', from: 0, to: band.realBelow, colour: hexColour(VERDICT_COLOURS.REAL), label: `REAL (< ${band.realBelow})` },
    { zone: 'UNCERTAIN', from: band.realBelow, to: band.fakeAbove, colour: hexColour(VERDICT_COLOURS.UNCERTAIN), label: 'UNCERTAIN' },
    { zone: 'FAKE', from: band.fakeAbove, to: 1, colour: hexColour(VERDICT_COLOURS.FAKE), label: `FAKE (>= ${band.fakeAbove})` },
  ];
  return zones.filter((z) => z.to > z.from);
}

/** The points of every track, tracks in id order, each track's frames in frame order. */
export function timelinePoints(scan: ScanResult): TimelinePoint[] {
  const tracks = [...scan.tracks].sort((a, b) => a.trackId - b.trackId);
  return tracks.flatMap((t) =>
    scan.frames
      .filter((f) => f.trackId === t.trackId)
      .sort((a, b) => a.frameIndex - b.frameIndex)
      .map((f) => ({ t: f.timeMs / 1000, p: f.probability, trackId: t.trackId, track: trackSeriesLabel(t.trackId, t.probability) })),
  );
}

/** End of the time axis (s): the media's duration, or the last score's time; 1 s for a still image. */
export function timelineDuration(scan: ScanResult): number {
  const d = Math.max((scan.media?.durationMs ?? 0) / 1000, ...scan.frames.map((f) => f.timeMs / 1000));
  return d > 0 ? d : 1;
}

export function timelineTitle(scan: ScanResult): string {
  const name = scan.file.split(/[\\/]/).pop() ?? scan.file;
  const p = scan.probability !== null ? ` P(fake) ${scan.probability.toFixed(2)}` : '';
  return `${name}: ${scan.verdict ?? 'ERROR'}${p} (${scan.strategy})`;
}

/** Text drawn on an empty chart (NO_FACE): there is no line to draw. */
export function noFaceNote(scan: ScanResult): string {
  return `no face found in ${scan.framesSampled} sampled frame${scan.framesSampled === 1 ? '' : 's'}: nothing to plot`;
}

/**
 * The Vega-Lite spec of the timeline of `scan`, `size` being the whole picture (title and legend
 * included). A scan without tracks (NO_FACE) gives the empty band with {@link noFaceNote} on it.
 */
export function timelineSpec(scan: ScanResult, size: TimelineSize): TopLevelSpec {
  const duration = timelineDuration(scan);
  const zones = timelineZones(scan.band);
  const points = timelinePoints(scan);
  const series = [...new Set(points.map((p) => p.track))];
  const xy: Encoding = {
    x: { field: 't', type: 'quantitative', title: 'time (s)', scale: { domain: [0, duration], nice: false } },
    y: { field: 'p', type: 'quantitative', title: 'P(fake)', scale: { domain: [0, 1], nice: false } },
  };
  const trackColour: Encoding['color'] = {
    field: 'track',
    type: 'nominal',
    title: 'face track',
    sort: series,
    scale: { domain: series, range: series.map((_, i) => seriesColour(i)) },
  };
  const zoneLayers: Layer[] = [
    {
      name: 'zones',
      data: { values: zones },
      // no x encoding: each rect spans the plot's full width
      mark: { type: 'rect', opacity: ZONE_OPACITY },
      encoding: {
        y: { field: 'from', type: 'quantitative', scale: { domain: [0, 1], nice: false }, title: 'P(fake)' },
        y2: { field: 'to' },
        fill: { field: 'colour', type: 'nominal', scale: null },
      },
    },
    {
      name: 'zone_labels',
      data: { values: zones.map((z) => ({ ...z, mid: (z.from + z.to) / 2, textColour: darker(VERDICT_COLOURS[z.zone]) })) },
      mark: { type: 'text', align: 'right', baseline: 'middle', dx: -6, fontWeight: 'bold', fontSize: 12 },
      encoding: {
        x: { value: 'width' },
        y: { field: 'mid', type: 'quantitative' },
        text: { field: 'label' },
        fill: { field: 'textColour', type: 'nominal', scale: null },
      },
    },
  ];
  const dataLayers: Layer[] = points.length
    ? [
        {
          name: 'track_lines',
          data: { values: points },
          mark: { type: 'line', strokeWidth: 2, interpolate: 'linear' },
          encoding: { ...xy, color: trackColour },
        },
        {
          name: 'track_points',
          data: { values: points },
          mark: { type: 'point', filled: true, size: 36, opacity: 1 },
          encoding: { ...xy, color: trackColour },
        },
      ]
    : [
        {
          name: 'no_face_note',
          data: { values: [{ t: duration / 2, p: 0.5, note: noFaceNote(scan) }] },
          mark: { type: 'text', fontSize: 16, fill: '#333333' },
          encoding: { ...xy, text: { field: 'note' } },
        },
      ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: timelineTitle(scan), anchor: 'start', fontSize: 15 },
    width: size.width,
    height: size.height,
    // the whole picture, axes/title/legend included, is width x height
    autosize: { type: 'fit', contains: 'padding' },
    padding: 12,
    background: '#ffffff',
    config: { legend: { orient: 'bottom', labelFontSize: 12, titleFontSize: 12, labelLimit: 0 }, axis: { labelFontSize: 12, titleFontSize: 12 } },
    layer: [...zoneLayers, ...dataLayers],
  };
}
