/**
 * A training-free reference point for an `unmask eval` run (prints figures; not a test).
 *
 * Score = minus the sharpness of the picture's centre half (the log variance of its Laplacian), so
 * blurrier = more likely FAKE. Face swaps are often softer than the footage around them, and
 * heavily compressed sets such as DFDC's face stills carry that cue: a learned detector that barely
 * beats this number there has not shown that it detects more than blur.
 * For every input of the run's videos.csv it prints, per data set, the cue's AUC with a bootstrap
 * interval, each model's AUC on the same inputs, the paired difference model - cue, and the rank
 * correlation between the two (how much of the model's ranking the cue explains). Images are read
 * directly; a video's cue is the mean over its face crops in an `unmask extract` folder (`--crops`),
 * and videos without one there are left out.
 *
 *   node dist/bench/sharpness_baseline.js <eval out dir>/videos.csv [--crops <extract dir>] [--strategy mean-logit]
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { bootstrapCi } from '../src/eval/bootstrap.js';
import { rocAuc, type BinaryLabel } from '../src/eval/metrics.js';
import { pairedAucDifference } from '../src/eval/paired.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

interface VideoRow {
  path: string;
  label: string;
  dataset: string;
  model: string;
  strategy: string;
  probability: string;
}

/**
 * Sharpness of the centre half of an image (a quarter of each side cut away): the log variance of
 * its 4-neighbour Laplacian on the grey levels. Computed here rather than with sharp's
 * `stats().sharpness`, whose Laplacian is clipped to 8 bits and loses its negative half.
 */
async function centreSharpness(path: string): Promise<number> {
  const { width = 0, height = 0 } = await sharp(path).metadata();
  const left = Math.floor(width / 4), top = Math.floor(height / 4);
  const w = Math.max(3, width - 2 * left), h = Math.max(3, height - 2 * top);
  const grey = await sharp(path).extract({ left, top, width: w, height: h }).greyscale().raw().toBuffer();
  let sum = 0, sumSq = 0, n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const lap = grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4 * grey[i];
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const mean = sum / n;
  return Math.log(sumSq / n - mean * mean + 1);
}

/** Source path -> crop files, from the per-input JSON records of an `unmask extract` folder. */
async function cropsBySource(dir: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    const rec = JSON.parse(await readFile(join(dir, name), 'utf8')) as { schema?: string; source?: string; faces?: { file: string }[] };
    if (rec.schema !== 'unmask.extract/1' || !rec.source || !rec.faces?.length) continue;
    out.set(rec.source, rec.faces.map((f) => join(dir, f.file)));
  }
  return out;
}

/** Average ranks (ties share their mean rank), 1-based. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = ranks(a), rb = ranks(b), n = a.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n, mb = rb.reduce((s, x) => s + x, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const fmt = (x: number) => x.toFixed(3);
const ci = (c: [number, number] | null | undefined) => (c ? ` [${fmt(c[0])}, ${fmt(c[1])}]` : '');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const csvPath = args[0];
  if (!csvPath) throw new Error('usage: sharpness_baseline <eval out dir>/videos.csv [--crops <extract dir>] [--strategy mean-logit]');
  const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const strategy = opt('--strategy') ?? 'mean-logit';
  const crops = opt('--crops') ? await cropsBySource(opt('--crops')!) : new Map<string, string[]>();
  const isImage = (path: string) => IMAGE_EXTENSIONS.has(extname(path).toLowerCase());
  const rows = (parse(await readFile(csvPath), { columns: true, skip_empty_lines: true }) as VideoRow[]).filter(
    (r) => r.strategy === strategy && r.probability !== '' && (isImage(r.path) || crops.has(r.path)),
  );
  if (rows.length === 0) throw new Error(`${csvPath}: no scored images (or videos with crops) for strategy ${strategy}`);

  const sharpness = new Map<string, number>();
  for (const path of new Set(rows.map((r) => r.path))) {
    const files = isImage(path) ? [path] : crops.get(path)!;
    let sum = 0;
    for (const f of files) sum += await centreSharpness(f);
    sharpness.set(path, sum / files.length);
  }

  const datasets = [...new Set(rows.map((r) => r.dataset))].sort();
  for (const dataset of datasets) {
    const mine = rows.filter((r) => r.dataset === dataset);
    const models = [...new Set(mine.map((r) => r.model))];
    const first = mine.filter((r) => r.model === models[0]);
    const labels = first.map((r) => (r.label === 'FAKE' ? 1 : 0) as BinaryLabel);
    if (!labels.includes(0) || !labels.includes(1)) continue;
    const cue = first.map((r) => -sharpness.get(r.path)!);
    const clusters = labels.map((label, i) => ({ label, scores: [cue[i]] }));
    console.log(`${dataset}: ${first.length} inputs (${labels.filter((l) => l === 1).length} FAKE)`);
    console.log(`  centre sharpness (training-free)  AUC ${fmt(rocAuc(labels, cue))}${ci(bootstrapCi(clusters, rocAuc))}`);
    for (const model of models) {
      const byPath = new Map(mine.filter((r) => r.model === model).map((r) => [r.path, Number(r.probability)]));
      const samples = first
        .map((r, i) => ({ label: labels[i], a: byPath.get(r.path), b: cue[i] }))
        .filter((s): s is { label: BinaryLabel; a: number; b: number } => s.a !== undefined);
      const d = pairedAucDifference(samples);
      const auc = rocAuc(samples.map((s) => s.label), samples.map((s) => s.a));
      const rho = spearman(samples.map((s) => s.a), samples.map((s) => s.b));
      console.log(
        `  ${model.padEnd(32)} AUC ${fmt(auc)}   minus the cue ${d ? `${d.difference >= 0 ? '+' : ''}${fmt(d.difference)}${ci(d.ci95)}` : 'n/a'}   rank correlation with the cue ${fmt(rho)}`,
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(`sharpness_baseline: ${(e as Error).message}`);
  process.exit(2);
});
