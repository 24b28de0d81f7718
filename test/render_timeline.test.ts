/**
 * `scan --timeline`: the Vega-Lite spec has one series per track with a point per sampled frame and
 * the three decision-band zones in the overlay colours; the SVG (Vega in Node, no browser) is
 * well-formed and has one line per track and the title; the PNG (the SVG rasterised by sharp) has the
 * requested size and both track colours. A NO_FACE scan gives the empty band with a note.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { SCAN_SCHEMA, type ScanResult } from '../src/pipeline/scan_result.js';
import { renderTimelineSvg, writeTimeline } from '../src/render/timeline.js';
import { noFaceNote, timelineSpec, timelineZones, trackSeriesLabel } from '../src/render/timeline_spec.js';
import { hexColour, VERDICT_COLOURS } from '../src/render/track_overlay.js';
import { seriesColour } from '../src/report/charts.js';
import { InvalidOptionError } from '../src/util/errors.js';
import * as fx from './helpers/media_fixtures.js';
import { tempDir } from './helpers/temp_dir.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
function unmask(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

/** A scan of a 4 s, 25 fps video: track 0 in all 8 sampled frames (rising score), track 1 in the last 4. */
function syntheticScan(file = '/videos/clip.mp4'): ScanResult {
  const sampled = [0, 14, 28, 42, 57, 71, 85, 99];
  const frames: ScanResult['frames'] = [];
  sampled.forEach((f, i) => {
    const box = { x: 100 + i, y: 80, width: 120, height: 120 };
    frames.push({ frameIndex: f, timeMs: f * 40, trackId: 0, probability: 0.1 + i * 0.1, modelProbabilities: [0.1 + i * 0.1], box, detectorScore: 0.9 });
    if (i >= 4) frames.push({ frameIndex: f, timeMs: f * 40, trackId: 1, probability: 0.3, modelProbabilities: [0.3], box: { ...box, x: 400 }, detectorScore: 0.8 });
  });
  return {
    schema: SCAN_SCHEMA, file, status: 'ok', verdict: 'UNCERTAIN', probability: 0.5, strategy: 'mean-logit',
    band: { realBelow: 0.35, fakeAbove: 0.65 }, models: [{ name: 'm', version: '1' }],
    media: { kind: 'video', width: 640, height: 360, fps: 25, frameCount: 100, durationMs: 4000, display: [] },
    framesSampled: 8, framesDecoded: 8,
    tracks: [
      { trackId: 0, frames: 8, firstFrame: 0, lastFrame: 99, probability: 0.45 },
      { trackId: 1, frames: 4, firstFrame: 57, lastFrame: 99, probability: 0.3 },
    ],
    frames, warnings: [],
    timings: { probeMs: 0, decodeWaitMs: 0, detectMs: 0, cropMs: 0, trackMs: 0, classifyMs: 0, totalMs: 0 },
  };
}

function noFaceScan(): ScanResult {
  return { ...syntheticScan(), verdict: 'NO_FACE', probability: null, tracks: [], frames: [] };
}

type AnyLayer = { name?: string; data?: { values?: any[] }; mark?: any; encoding?: any };
function layer(spec: object, name: string): AnyLayer | undefined {
  return ((spec as { layer: AnyLayer[] }).layer).find((l) => l.name === name);
}

/**
 * Tiny XML well-formedness check: every start tag is closed in order, attribute values are quoted,
 * and every `&` starts an entity. (sharp/librsvg parsing the file is the second, independent check.)
 */
function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|<[^>]*>/g)) {
    if (m[2] === undefined) {
      assert.ok(/^<\?xml|^<!--/.test(m[0]), `malformed tag: ${m[0].slice(0, 80)}`);
      continue;
    }
    if (m[1]) assert.equal(stack.pop(), m[2], `closing </${m[2]}> does not match`);
    else if (!m[4]) stack.push(m[2]);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.doesNotMatch(xml, /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/, 'bare & in the XML');
}

/** The `<path>` elements of the SVG groups of one named Vega mark. */
function markPaths(svg: string, markName: string): string[] {
  const groups = [...svg.matchAll(new RegExp(`<g class="mark-\\w+ role-mark ${markName}"[^>]*>(.*?)</g>`, 'g'))];
  return groups.flatMap((g) => [...g[1].matchAll(/<path [^>]*\/>/g)].map((p) => p[0]));
}

/** Pixels of `png` within `tol` of the colour `hex` on every channel. */
async function colourCount(png: string, hex: string, tol = 12): Promise<number> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const rgb = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  let n = 0;
  for (let p = 0; p < data.length; p += info.channels) {
    if (Math.abs(data[p] - rgb[0]) < tol && Math.abs(data[p + 1] - rgb[1]) < tol && Math.abs(data[p + 2] - rgb[2]) < tol) n++;
  }
  return n;
}

let dir: string;
before(async () => {
  dir = tempDir('timeline');
});

test('spec: one series per track with a point per sampled frame at its time, the three band zones, axes and title', () => {
  const spec = timelineSpec(syntheticScan(), { width: 900, height: 420 });
  const lines = layer(spec, 'track_lines')!;
  const points = layer(spec, 'track_points')!;
  assert.equal(lines.mark.type, 'line');
  assert.equal(points.mark.type, 'point');
  const values = lines.data!.values!;
  const labels = [trackSeriesLabel(0, 0.45), trackSeriesLabel(1, 0.3)];
  assert.deepEqual([...new Set(values.map((v) => v.track))], labels);
  const t0 = values.filter((v) => v.trackId === 0), t1 = values.filter((v) => v.trackId === 1);
  assert.equal(t0.length, 8);
  assert.equal(t1.length, 4);
  assert.deepEqual({ t: t0[2].t, p: t0[2].p }, { t: 1.12, p: 0.1 + 2 * 0.1 });
  assert.deepEqual(t1.map((v) => v.t), [57, 71, 85, 99].map((f) => (f * 40) / 1000));
  assert.ok(t1.every((v) => v.p === 0.3));
  assert.deepEqual(points.data!.values, values);
  // each track its own colour, the same in line and points
  assert.deepEqual(lines.encoding.color.scale, { domain: labels, range: [seriesColour(0), seriesColour(1)] });
  assert.deepEqual(points.encoding.color, lines.encoding.color);
  assert.deepEqual(lines.encoding.x.scale.domain, [0, 4]);
  assert.deepEqual(lines.encoding.y.scale.domain, [0, 1]);
  // the band: REAL below realBelow, UNCERTAIN between, FAKE above fakeAbove, in the overlay colours
  const zones = layer(spec, 'zones')!;
  assert.equal(zones.mark.type, 'rect');
  assert.deepEqual(
    zones.data!.values!.map((z) => [z.zone, z.from, z.to, z.colour]),
    [
      ['REAL', 0, 0.35, hexColour(VERDICT_COLOURS.REAL)],
      ['UNCERTAIN', 0.35, 0.65, hexColour(VERDICT_COLOURS.UNCERTAIN)],
      ['FAKE', 0.65, 1, hexColour(VERDICT_COLOURS.FAKE)],
    ],
  );
  assert.deepEqual(zones.encoding.fill, { field: 'colour', type: 'nominal', scale: null });
  assert.equal(layer(spec, 'no_face_note'), undefined);
  assert.equal((spec as { title: { text: string } }).title.text, 'clip.mp4: UNCERTAIN P(fake) 0.50 (mean-logit)');
  // a band without an UNCERTAIN zone has two zones
  assert.deepEqual(timelineZones({ realBelow: 0.5, fakeAbove: 0.5 }).map((z) => z.zone), ['REAL', 'FAKE']);
});

test('SVG timeline: well-formed, the requested size, one line path per track in its colour, a point per score, the title', async () => {
  const out = join(dir, 'timeline.svg');
  await writeTimeline(syntheticScan(), out, { width: 900, height: 420 });
  const svg = await readFile(out, 'utf8');
  assertWellFormedXml(svg);
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'svg');
  assert.equal(meta.width, 900);
  assert.equal(meta.height, 420);
  const lines = markPaths(svg, 'track_lines_marks');
  assert.equal(lines.length, 2);
  assert.deepEqual(lines.map((p) => /stroke="([^"]+)"/.exec(p)![1]), [seriesColour(0), seriesColour(1)]);
  // one segment per consecutive pair of scores: 8 and 4 vertices
  assert.deepEqual(lines.map((p) => (/ d="([^"]+)"/.exec(p)![1].match(/[ML]/g) ?? []).length), [8, 4]);
  assert.equal(markPaths(svg, 'track_points_marks').length, 12);
  assert.equal(markPaths(svg, 'zones_marks').length, 3);
  assert.match(svg, />clip\.mp4: UNCERTAIN P\(fake\) 0\.50 \(mean-logit\)<\/text>/);
  assert.match(svg, />time \(s\)<\/text>/);
});

test('SVG timeline: a file name with XML special characters stays well-formed', async () => {
  const svg = await renderTimelineSvg(syntheticScan('/v/a&b <c>".mp4'), { width: 600, height: 300 });
  assertWellFormedXml(svg);
  assert.equal((await sharp(Buffer.from(svg)).metadata()).width, 600);
  assert.match(svg, />a&amp;b &lt;c&gt;(&quot;|")\.mp4: UNCERTAIN/);
});

test('PNG timeline: the requested size, drawn, with each track colour and the zone shading present', async () => {
  const out = join(dir, 'timeline.png');
  await writeTimeline(syntheticScan(), out, { width: 900, height: 420 });
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 900);
  assert.equal(meta.height, 420);
  for (const [i, hex] of [seriesColour(0), seriesColour(1)].entries()) {
    const n = await colourCount(out, hex);
    assert.ok(n > 300, `track ${i} colour ${hex}: ${n} pixels`);
  }
  // each zone's colour at its opacity over white covers a large area
  const spec = timelineSpec(syntheticScan(), { width: 900, height: 420 });
  const opacity = layer(spec, 'zones')!.mark.opacity as number;
  for (const zone of ['REAL', 'UNCERTAIN', 'FAKE'] as const) {
    const shaded = hexColour(VERDICT_COLOURS[zone].map((c) => Math.round(255 * (1 - opacity) + c * opacity)));
    const n = await colourCount(out, shaded, 4);
    assert.ok(n > 20000, `${zone} zone ${shaded}: ${n} pixels`);
  }
});

test('NO_FACE: the empty band with a note saying no face was found, as SVG and PNG', async () => {
  const scan = noFaceScan();
  const spec = timelineSpec(scan, { width: 800, height: 400 });
  assert.equal(layer(spec, 'track_lines'), undefined);
  assert.equal(layer(spec, 'zones')!.data!.values!.length, 3);
  assert.equal(noFaceNote(scan), 'no face found in 8 sampled frames: nothing to plot');
  const svgOut = join(dir, 'noface.svg');
  await writeTimeline(scan, svgOut, { width: 800, height: 400 });
  const svg = await readFile(svgOut, 'utf8');
  assertWellFormedXml(svg);
  assert.match(svg, />no face found in 8 sampled frames: nothing to plot<\/text>/);
  assert.match(svg, />clip\.mp4: NO_FACE \(mean-logit\)<\/text>/);
  assert.equal(markPaths(svg, 'track_lines_marks').length, 0);
  const pngOut = join(dir, 'noface.png');
  await writeTimeline(scan, pngOut, { width: 800, height: 400 });
  const meta = await sharp(pngOut).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 800, 400]);
  assert.equal(await colourCount(pngOut, seriesColour(0)), 0);
});

test('other extensions, a failed scan and a bad size are refused with one-line errors', async () => {
  for (const name of ['t.gif', 't.jpg', 't']) {
    await assert.rejects(writeTimeline(syntheticScan(), join(dir, name)), (e: unknown) =>
      e instanceof InvalidOptionError && /^--timeline: the output must end in \.png or \.svg; got '.*'$/.test((e as Error).message));
  }
  const failed: ScanResult = { ...syntheticScan(), status: 'error', verdict: null, error: { code: 'NOT_FOUND', message: 'no such file' } };
  await assert.rejects(writeTimeline(failed, join(dir, 'f.svg')), /cannot draw a timeline of .*the scan failed \(no such file\)/);
  await assert.rejects(writeTimeline(syntheticScan(), join(dir, 's.png'), { width: 0, height: 400 }), /width must be an integer/);
});

test('CLI: scan --timeline .svg of a clip with no face writes the note chart; a bad extension is one line, exit 2', async () => {
  const bad = unmask('scan', '--timeline', join(dir, 'cli.gif'), fx.noFaceClip());
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^unmask: --timeline: the output must end in \.png or \.svg; got '.*cli\.gif'\n$/);
  const out = join(dir, 'cli_noface.svg');
  const p = unmask('scan', '--json', '--sample', 'uniform:4', '--timeline', out, fx.noFaceClip());
  assert.equal(p.status, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout).results[0].verdict, 'NO_FACE');
  assert.match(p.stderr, /wrote .*cli_noface\.svg/);
  const svg = await readFile(out, 'utf8');
  assertWellFormedXml(svg);
  assert.match(svg, />no face found in 4 sampled frames: nothing to plot<\/text>/);
});
