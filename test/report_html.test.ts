/**
 * The HTML report in headless Chromium (Debian's build driven by playwright-core; no browser
 * download): it loads with no console or page errors and no network, every chart canvas holds a drawn
 * Chart.js chart, the tables have the expected rows, strings from the results are escaped, and a
 * screenshot is a real picture. Skips, saying so, where Chromium is not installed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { EvalResults } from '../src/eval/eval_results.js';
import { headlineEvaluations, reportCharts, writeHtmlReport } from '../src/report/html_report.js';
import { findChromium } from '../src/render/chromium.js';
import { metricRecord } from '../src/eval/evaluate.js';
import { makeEvalResults } from './helpers/eval_results_fixture.js';
import { tempDir } from './helpers/temp_dir.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const executablePath = findChromium();
const skip = executablePath ? false : 'Chromium not installed (apt-get install chromium, or set UNMASK_CHROMIUM)';

const HOSTILE_PATH = '/data/<img src=x onerror="window.__pwned=1">.mp4';
const HOSTILE_MESSAGE = '</script><script>window.__pwned=2</script> & "quotes"';

let dir: string;
let results: EvalResults;
let reportPath: string;
let browser: Browser | undefined;
let page: Page;
const consoleErrors: string[] = [];
const pageErrors: string[] = [];
const outsideRequests: string[] = [];

before(async () => {
  dir = tempDir('report');
  results = await makeEvalResults();
  // strings that would run script if the report did not escape them
  results.worst[0].path = HOSTILE_PATH;
  results.failures[0].message = HOSTILE_MESSAGE;
  results.stacking = {
    members: ['sbi', 'meso'], coef: [0.8, 0.1], intercept: -0.2, fittedOn: 40, validationIndex: '/data/val.csv', folds: 5,
    outOfFold: { auc: 0.71, logLoss: 0.62 }, equalMean: { auc: 0.69, logLoss: 0.64 }, aucDifference: 0.02, aucDifferenceCi95: [-0.01, 0.05],
    manifestOut: '/models/x.ensemble.json',
  };
  const resultsPath = join(dir, 'results.json');
  await writeFile(resultsPath, JSON.stringify(results));
  reportPath = join(dir, 'report.html');
  const p = spawnSync(process.execPath, [cli, 'report', resultsPath, '--out', reportPath], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /^wrote .*report\.html \(\d+ charts, \d+ KB\)\n$/);
  if (skip) return;
  browser = await chromium.launch({ executablePath, headless: true });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => {
    pageErrors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    outsideRequests.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
});

after(async () => {
  await browser?.close();
});

test('the page loads with no console errors, no page errors and no network requests', { skip }, () => {
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(outsideRequests, []);
});

test('every chart canvas holds a Chart.js chart that has drawn pixels', { skip }, async () => {
  const expected = reportCharts(results);
  // 2 levels x (ROC + PR + reliability + a histogram per model and the ensemble)
  assert.equal(expected.length, 2 * (3 + 3));
  const drawn = await page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>('canvas.chart')].map((c) => {
      const chart = (window as any).Chart.getChart(c);
      const ctx = c.getContext('2d')!;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) painted++;
      return { id: c.id, kind: c.dataset.kind, hasChart: !!chart, type: chart?.config.type, datasets: chart?.data.datasets.length ?? 0, width: c.width, height: c.height, painted, pixels: c.width * c.height };
    }),
  );
  assert.deepEqual(drawn.map((d) => d.id), expected.map((c) => c.id));
  for (const d of drawn) {
    assert.ok(d.hasChart, `${d.id}: no Chart.js chart`);
    assert.ok(d.width > 100 && d.height > 100, `${d.id}: canvas ${d.width}x${d.height}`);
    // axes, grid and labels alone paint a few percent; curves and bars add more
    assert.ok(d.painted / d.pixels > 0.02, `${d.id}: only ${d.painted} of ${d.pixels} pixels painted`);
  }
  const roc = drawn.find((d) => d.id === 'chart-video-roc')!;
  assert.equal(roc.datasets, 4, 'ROC: sbi, meso, ensemble and the chance diagonal');
  assert.equal(drawn.filter((d) => d.kind === 'histogram' && d.type === 'bar').length, 6);
});

test('tables have one row per evaluation, strategy, worst video and failure', { skip }, async () => {
  const rows = (id: string) => page.locator(`#${id} tbody tr`).count();
  assert.equal(await rows('table-summary'), headlineEvaluations(results, 'video').length + headlineEvaluations(results, 'frame').length);
  assert.equal(await rows('table-summary'), 6);
  assert.equal(await rows('table-strategies'), 3 * 3, '3 models x 3 strategies');
  assert.equal(await rows('table-groups'), results.evaluations.filter((e) => e.groupBy !== 'all' && e.strategy === results.strategy).length);
  assert.ok((await rows('table-groups')) >= 3 * 2 * (2 + 3 + 2), 'models x levels x (data sets + methods + compressions)');
  assert.equal(await rows('table-worst'), results.worst.length);
  assert.equal(await rows('table-failures'), 1);
  assert.equal(await rows('table-models'), 2);
  assert.equal(await rows('table-comparisons'), 3, 'meso - sbi, ensemble - sbi, ensemble - meso');
  assert.equal(await rows('table-stacking'), 3, 'two members and the intercept');
  assert.match(await page.locator('#stacking-oof').innerText(), /Out of 5 folds by identity: video AUC 0\.710 \/ log loss 0\.620; equal mean 0\.690 \/ 0\.640; paired AUC difference 0\.020 \[-0\.010, 0\.050\]/);
  const c = results.comparisons![0];
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
  const firstComparison = await page.locator('#table-comparisons tbody tr').first().innerText();
  assert.ok(firstComparison.includes(`[${signed(c.aucDifferenceCi95![0])}, ${signed(c.aucDifferenceCi95![1])}]`), firstComparison);
  // the AUC cell shows the interval of the record it comes from
  const sbiVideo = headlineEvaluations(results, 'video').find((e) => e.model === 'sbi')!.metrics;
  const firstRow = await page.locator('#table-summary tbody tr').first().innerText();
  assert.ok(firstRow.includes(`${sbiVideo.auc!.toFixed(3)} [${sbiVideo.aucCi95![0].toFixed(3)}, ${sbiVideo.aucCi95![1].toFixed(3)}]`), firstRow);
  // thumbnails are decoded images
  const thumbs = await page.evaluate(() => [...document.querySelectorAll<HTMLImageElement>('#table-worst img.thumb')].map((i) => i.naturalWidth));
  assert.equal(thumbs.length, results.worst.length);
  assert.ok(thumbs.every((w) => w === 48), `thumbnail widths ${thumbs}`);
});

test('strings from results.json are shown as text, never run', { skip }, async () => {
  assert.equal(await page.evaluate(() => (window as any).__pwned), undefined);
  assert.ok((await page.locator('#table-worst').innerText()).includes(HOSTILE_PATH));
  assert.ok((await page.locator('#table-failures').innerText()).includes(HOSTILE_MESSAGE));
});

test('screenshot: a full-size PNG that is a picture, not a blank page', { skip }, async () => {
  const shot = join(dir, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  const meta = await sharp(shot).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 1280);
  assert.ok(meta.height! > 2000, `full page is ${meta.height}px tall`);
  const stats = await sharp(shot).stats();
  assert.ok(stats.entropy > 0.5, `entropy ${stats.entropy}`);
  assert.ok(stats.channels.slice(0, 3).every((c) => c.stdev > 10), 'pixel values vary');
  // the ROC chart's own screenshot has the series colours in it (not just black text on white)
  const roc = await sharp(await page.locator('#chart-video-roc').screenshot()).raw().toBuffer({ resolveWithObject: true });
  let coloured = 0;
  for (let i = 0; i < roc.data.length; i += roc.info.channels) {
    const [r, g, b] = [roc.data[i], roc.data[i + 1], roc.data[i + 2]];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 80) coloured++;
  }
  assert.ok(coloured > 200, `${coloured} strongly coloured pixels in the ROC chart`);
});

test('report of results with a single class: AUC cells say why there is none, page still loads', { skip }, async () => {
  const one = await makeEvalResults({ videos: 6 });
  const resultsPath = join(dir, 'one_class.json');
  // every record measured on REAL inputs only: no AUC, ROC, EER or PR curve
  const realOnly = metricRecord([0.1, 0.2, 0.7].map((p) => ({ label: 0 as const, scores: [p] })), { threshold: 0.5, resamples: 0, seed: 1 })!;
  for (const e of one.evaluations) e.metrics = realOnly;
  await writeFile(resultsPath, JSON.stringify(one));
  const out = join(dir, 'one_class.html');
  await writeHtmlReport(resultsPath, out);
  const p2 = await browser!.newPage();
  const errors: string[] = [];
  p2.on('pageerror', (e) => errors.push(e.message));
  p2.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await p2.goto(pathToFileURL(out).href);
  assert.deepEqual(errors, []);
  assert.equal(await p2.locator('#chart-video-roc').count(), 0, 'no ROC chart without ROC curves');
  assert.equal(await p2.locator('#chart-video-pr').count(), 0, 'no PR chart without a FAKE');
  assert.equal(await p2.locator('#chart-video-reliability').count(), 1);
  assert.ok((await p2.locator('#table-summary').innerHTML()).includes(`title="${realOnly.note}"`));
  await p2.close();
});

test('CLI: a bad results.json gives one line and exit 2', async () => {
  const bad = async (name: string, text: string) => {
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  };
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.json'), /^unmask: cannot read eval results .*missing\.json$/],
    [await bad('not_json.json', '{ nope'), /^unmask: .*not_json\.json is not valid JSON$/],
    [await bad('wrong.json', JSON.stringify({ schema: 'unmask.eval/1', models: 3 })), /^unmask: .*wrong\.json is not a valid unmask\.eval\/1 file: /],
  ];
  for (const [path, re] of cases) {
    const p = spawnSync(process.execPath, [cli, 'report', path, '--out', join(dir, 'x.html')], { encoding: 'utf8' });
    assert.equal(p.status, 2, p.stderr);
    const lines = p.stderr.trim().split('\n');
    assert.equal(lines.length, 1, p.stderr);
    assert.match(lines[0], re);
  }
});
