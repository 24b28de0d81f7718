/**
 * `unmask report`: one self-contained HTML page from an eval `results.json` (schema `unmask.eval/1`).
 * Tables are rendered here; charts are Chart.js configurations inlined as JSON next to the inlined
 * Chart.js bundle, so the page needs no network. Every string from the results is escaped.
 */
import { writeFile } from 'node:fs/promises';
import type { ChartConfiguration } from 'chart.js';
import { type EvalResults, type Evaluation, type Level, type MetricRecord, readEvalResults } from '../eval/eval_results.js';
import { UnmaskError } from '../util/errors.js';
import { chartJsUmdSource } from './chart_js_source.js';
import { histogramChart, prChart, reliabilityChart, rocChart } from './charts.js';
import { escapeHtml as esc, jsonForScript, safeDataImageUrl } from './html_escape.js';

export type ReportChartKind = 'roc' | 'pr' | 'reliability' | 'histogram';

export interface ReportChart {
  /** Element id of the chart's canvas. */
  id: string;
  kind: ReportChartKind;
  level: Level;
  config: ChartConfiguration<any, any, any>;
}

const LEVELS: Level[] = ['video', 'frame'];
/** Rows of the failures table shown before "and N more". */
const MAX_FAILURE_ROWS = 200;

/** Models in the order the results list them, then named ensembles by name, then the ensemble of all. */
function modelOrder(r: EvalResults): (model: string) => number {
  const keys = r.models.map((m) => m.key);
  return (m) => {
    const i = keys.indexOf(m);
    return i >= 0 ? i : m === 'ensemble' ? keys.length + 1 : keys.length;
  };
}

function sortEvals(r: EvalResults, evals: Evaluation[]): Evaluation[] {
  const rank = modelOrder(r);
  return [...evals].sort((a, b) => rank(a.model) - rank(b.model) || a.model.localeCompare(b.model));
}

/**
 * The headline evaluations of one level: every model over the whole index under the run's default
 * strategy (frame-level records carry the default strategy too). Falls back to each model's first
 * record when none has the default strategy.
 */
export function headlineEvaluations(r: EvalResults, level: Level): Evaluation[] {
  const all = r.evaluations.filter((e) => e.level === level && e.groupBy === 'all');
  const chosen = all.filter((e) => e.strategy === r.strategy);
  if (chosen.length) return sortEvals(r, chosen);
  const first = new Map<string, Evaluation>();
  for (const e of all) if (!first.has(e.model)) first.set(e.model, e);
  return sortEvals(r, [...first.values()]);
}

/** Every chart of the report, in page order. */
export function reportCharts(r: EvalResults): ReportChart[] {
  const charts: ReportChart[] = [];
  for (const level of LEVELS) {
    const evals = headlineEvaluations(r, level);
    if (!evals.length) continue;
    const add = (kind: ReportChartKind, config: ChartConfiguration<any, any, any>, suffix = '') =>
      charts.push({ id: `chart-${level}-${kind}${suffix}`, kind, level, config });
    if (evals.some((e) => e.metrics.roc)) add('roc', rocChart(`ROC, ${level} level`, evals));
    if (evals.some((e) => e.metrics.pr)) add('pr', prChart(`Precision-recall, ${level} level`, evals));
    add('reliability', reliabilityChart(`Reliability, ${level} level`, evals));
    evals.forEach((e, i) => add('histogram', histogramChart(`P(FAKE) by class: ${e.model}, ${level} level`, e), `-${i}`));
  }
  return charts;
}

// ---- tables -------------------------------------------------------------------------------------

function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '&mdash;' : x.toFixed(digits);
}

function aucCell(m: MetricRecord): string {
  if (m.auc === null) return `<span title="${esc(m.note ?? 'AUC undefined')}">&mdash;</span>`;
  const ci = m.aucCi95 ? ` <span class="ci">[${num(m.aucCi95[0])}, ${num(m.aucCi95[1])}]</span>` : '';
  return `${num(m.auc)}${ci}`;
}

interface Column<T> {
  head: string;
  /** Already-escaped HTML. */
  cell: (row: T) => string;
  numeric?: boolean;
}

const METRIC_COLUMNS: Column<MetricRecord>[] = [
  { head: 'n', cell: (m) => String(m.n), numeric: true },
  { head: 'FAKE / REAL', cell: (m) => `${m.positives} / ${m.negatives}`, numeric: true },
  { head: 'AUC [95% CI]', cell: aucCell, numeric: true },
  { head: 'log loss', cell: (m) => num(m.logLoss), numeric: true },
  { head: 'accuracy', cell: (m) => num(m.accuracy), numeric: true },
  { head: 'balanced acc.', cell: (m) => num(m.balancedAccuracy), numeric: true },
  { head: 'EER', cell: (m) => num(m.eer), numeric: true },
  { head: 'AP', cell: (m) => num(m.averagePrecision), numeric: true },
  { head: 'ECE', cell: (m) => num(m.ece), numeric: true },
  { head: 'threshold', cell: (m) => num(m.threshold, 2), numeric: true },
  {
    head: 'TP / FP / TN / FN',
    cell: (m) => `${m.confusion.tp} / ${m.confusion.fp} / ${m.confusion.tn} / ${m.confusion.fn}`,
    numeric: true,
  },
  { head: 'note', cell: (m) => esc(m.note ?? '') },
];

function evalColumns(lead: Column<Evaluation>[]): Column<Evaluation>[] {
  return [...lead, ...METRIC_COLUMNS.map((c) => ({ ...c, cell: (e: Evaluation) => c.cell(e.metrics) }))];
}

function table<T>(id: string, columns: Column<T>[], rows: T[], rowClass: (row: T) => string = () => ''): string {
  const head = columns.map((c) => `<th${c.numeric ? ' class="num"' : ''}>${c.head}</th>`).join('');
  const body = rows
    .map((row) => {
      const cls = rowClass(row);
      const cells = columns.map((c) => `<td${c.numeric ? ' class="num"' : ''}>${c.cell(row)}</td>`).join('');
      return `<tr${cls ? ` class="${cls}"` : ''}>${cells}</tr>`;
    })
    .join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

const modelCol: Column<Evaluation> = { head: 'model', cell: (e) => esc(e.model) };
const levelCol: Column<Evaluation> = { head: 'level', cell: (e) => e.level };

function summaryTable(r: EvalResults): string {
  const rows = LEVELS.flatMap((level) => headlineEvaluations(r, level));
  if (!rows.length) return '<p class="empty">No evaluations: nothing could be scored.</p>';
  return table('table-summary', evalColumns([modelCol, levelCol]), rows);
}

const GROUPINGS = ['dataset', 'method', 'compression'] as const;

function groupsTable(r: EvalResults): string {
  const rank = modelOrder(r);
  const rows = r.evaluations
    .filter((e) => e.groupBy !== 'all' && e.strategy === r.strategy)
    .sort(
      (a, b) =>
        GROUPINGS.indexOf(a.groupBy as (typeof GROUPINGS)[number]) - GROUPINGS.indexOf(b.groupBy as (typeof GROUPINGS)[number]) ||
        a.group.localeCompare(b.group) ||
        LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) ||
        rank(a.model) - rank(b.model),
    );
  if (!rows.length) return '<p class="empty">No per-group evaluations in these results.</p>';
  return table(
    'table-groups',
    evalColumns([{ head: 'by', cell: (e) => e.groupBy }, { head: 'group', cell: (e) => esc(e.group) }, levelCol, modelCol]),
    rows,
  );
}

function strategiesTable(r: EvalResults): string {
  const rank = modelOrder(r);
  const rows = r.evaluations
    .filter((e) => e.level === 'video' && e.groupBy === 'all')
    .sort((a, b) => rank(a.model) - rank(b.model) || a.strategy.localeCompare(b.strategy));
  if (!rows.length) return '<p class="empty">No video-level evaluations in these results.</p>';
  const strategyCol: Column<Evaluation> = {
    head: 'strategy',
    cell: (e) => esc(e.strategy) + (e.strategy === r.strategy ? ' <span class="tag">default</span>' : ''),
  };
  return table('table-strategies', evalColumns([modelCol, strategyCol]), rows, (e) => (e.strategy === r.strategy ? 'default' : ''));
}

function calibrationTable(r: EvalResults): string {
  if (!r.calibration?.length) return '';
  type C = NonNullable<EvalResults['calibration']>[number];
  const cols: Column<C>[] = [
    { head: 'model', cell: (c) => esc(c.model) },
    { head: 'method', cell: (c) => c.method },
    {
      head: 'parameters',
      cell: (c) => (c.method === 'temperature' ? `T = ${num(c.temperature)}` : `a = ${num(c.a)}, b = ${num(c.b)}`),
    },
    { head: 'ECE before', cell: (c) => num(c.eceBefore), numeric: true },
    { head: 'ECE after', cell: (c) => num(c.eceAfter), numeric: true },
    { head: 'log loss before', cell: (c) => num(c.logLossBefore), numeric: true },
    { head: 'log loss after', cell: (c) => num(c.logLossAfter), numeric: true },
    { head: 'calibrated manifest', cell: (c) => `<code>${esc(c.manifestOut)}</code>` },
  ];
  return `<section><h2>Calibration</h2>${table('table-calibration', cols, r.calibration)}</section>`;
}

function stackingSection(r: EvalResults): string {
  const st = r.stacking;
  if (!st) return '';
  type Row = { member: string; coef: number };
  const rows: Row[] = [...st.members.map((member, i) => ({ member, coef: st.coef[i] })), { member: '(intercept)', coef: st.intercept }];
  const cols: Column<Row>[] = [
    { head: 'member', cell: (x) => esc(x.member) },
    { head: 'coefficient on its calibrated video logit', cell: (x) => num(x.coef), numeric: true },
  ];
  const ci = st.aucDifferenceCi95 ? ` [${num(st.aucDifferenceCi95[0])}, ${num(st.aucDifferenceCi95[1])}]` : '';
  const diff = st.aucDifference === null ? '' : `; paired AUC difference ${num(st.aucDifference)}${ci}`;
  return `<section><h2>Stacking</h2>${table('table-stacking', cols, rows)}
<p id="stacking-oof">Fitted on ${st.fittedOn} inputs of <code>${esc(st.validationIndex)}</code>. Out of ${st.folds} folds by identity: video AUC ${num(st.outOfFold.auc)} / log loss ${num(st.outOfFold.logLoss)}; equal mean ${num(st.equalMean.auc)} / ${num(st.equalMean.logLoss)}${diff}. Manifest: <code>${esc(st.manifestOut)}</code></p></section>`;
}

function comparisonsTable(r: EvalResults): string {
  if (!r.comparisons?.length) return '';
  type C = NonNullable<EvalResults['comparisons']>[number];
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${num(x)}`;
  const cols: Column<C>[] = [
    { head: 'model', cell: (c) => esc(c.model) },
    { head: 'baseline', cell: (c) => esc(c.baseline) },
    { head: 'n', cell: (c) => String(c.n), numeric: true },
    { head: 'AUC difference', cell: (c) => signed(c.aucDifference), numeric: true },
    { head: '95% CI (paired bootstrap)', cell: (c) => (c.aucDifferenceCi95 ? `[${signed(c.aucDifferenceCi95[0])}, ${signed(c.aucDifferenceCi95[1])}]` : '-'), numeric: true },
  ];
  const title = `Paired differences (video level, ${esc(r.strategy)}: model minus baseline on the inputs both scored)`;
  return `<section><h2>${title}</h2>${table('table-comparisons', cols, r.comparisons)}</section>`;
}

function worstTable(r: EvalResults): string {
  if (!r.worst.length) return '<p class="empty">No wrongly scored videos listed.</p>';
  type W = EvalResults['worst'][number];
  const cols: Column<W>[] = [
    { head: 'model', cell: (w) => esc(w.model) },
    {
      head: 'face',
      cell: (w) => {
        const src = safeDataImageUrl(w.thumbnail);
        return src ? `<img class="thumb" alt="face" src="${esc(src)}">` : '<span class="empty">no thumbnail</span>';
      },
    },
    { head: 'video', cell: (w) => `<code>${esc(w.path)}</code>` },
    { head: 'label', cell: (w) => esc(w.label) },
    { head: 'P(FAKE)', cell: (w) => num(w.probability), numeric: true },
    {
      head: 'at 0.5',
      cell: (w) =>
        w.label === 'REAL' && w.probability >= 0.5 ? 'false alarm' : w.label === 'FAKE' && w.probability < 0.5 ? 'missed fake' : 'right side, low margin',
    },
  ];
  return table('table-worst', cols, r.worst);
}

function failuresSection(r: EvalResults): string {
  if (!r.failures.length) return '';
  type F = EvalResults['failures'][number];
  const cols: Column<F>[] = [
    { head: 'input', cell: (f) => `<code>${esc(f.path)}</code>` },
    { head: 'code', cell: (f) => esc(f.code) },
    { head: 'message', cell: (f) => esc(f.message) },
  ];
  const more = r.failures.length - MAX_FAILURE_ROWS;
  return `<section><h2>Inputs that could not be scanned (${r.failures.length})</h2>${table('table-failures', cols, r.failures.slice(0, MAX_FAILURE_ROWS))}${
    more > 0 ? `<p>and ${more} more (see results.json)</p>` : ''
  }</section>`;
}

function runSection(r: EvalResults): string {
  const filter = Object.entries(r.filter)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${esc(k)}=${esc(String(v))}`)
    .join(', ');
  type M = EvalResults['models'][number];
  const cols: Column<M>[] = [
    { head: 'key', cell: (m) => esc(m.key) },
    { head: 'name', cell: (m) => esc(m.name) },
    { head: 'version', cell: (m) => esc(m.version) },
    { head: 'band (REAL below / FAKE at or above)', cell: (m) => `${num(m.band.realBelow, 2)} / ${num(m.band.fakeAbove, 2)}`, numeric: true },
    { head: 'manifest', cell: (m) => `<code>${esc(m.manifest)}</code>` },
  ];
  return `<section><h2>Run</h2><dl>
<dt>index</dt><dd><code>${esc(r.index)}</code>${filter ? ` (${filter})` : ''}</dd>
<dt>created</dt><dd>${esc(r.createdAt)}</dd>
<dt>default strategy</dt><dd>${esc(r.strategy)}</dd>
<dt>inputs</dt><dd>${r.timings.scanned} scanned, ${r.timings.cached} from cache, ${r.failures.length} failed, ${num(r.timings.seconds, 1)} s</dd>
</dl>${table('table-models', cols, r.models)}</section>`;
}

function chartSection(level: Level, charts: ReportChart[]): string {
  const mine = charts.filter((c) => c.level === level);
  if (!mine.length) return '';
  const boxes = mine
    .map((c) => `<div class="chart-box ${c.kind}"><canvas id="${c.id}" class="chart" data-kind="${c.kind}" data-level="${level}"></canvas></div>`)
    .join('\n');
  return `<section><h2>${level === 'video' ? 'Video' : 'Frame'} level</h2><div class="charts">\n${boxes}\n</div></section>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1400px;padding:0 16px;color:#212529;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dee2e6;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #e9ecef;text-align:left;vertical-align:middle}
th{background:#f1f3f5;position:sticky;top:0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.default td{background:#f8f9fa}.ci{color:#868e96}.tag{font-size:11px;background:#e7f5ff;color:#1864ab;padding:0 4px;border-radius:3px}
.empty{color:#868e96}code{font-size:12px;word-break:break-all}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{color:#868e96}dd{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px}.chart-box{position:relative;height:340px}
img.thumb{width:72px;height:72px;object-fit:cover;border-radius:4px;display:block}.scroll{overflow-x:auto}
`;

const BOOT = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  data.charts.forEach(function (c) { new Chart(document.getElementById(c.id), c.config); });
})();
`;

/** The complete page. `chartJs` is the Chart.js UMD source to inline. */
export function renderReportHtml(r: EvalResults, chartJs: string): string {
  const charts = reportCharts(r);
  const title = `unmask evaluation: ${r.models.map((m) => m.name).join(', ') || 'no models'}`;
  const data = { schema: r.schema, charts: charts.map((c) => ({ id: c.id, kind: c.kind, level: c.level, config: c.config })) };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head><body>
<h1>${esc(title)}</h1>
<p class="empty">Positive class: FAKE. AUC intervals are bootstrap 95% percentile intervals${r.clusterBy === 'group' ? " resampling groups (inputs of one class sharing the index's group column are drawn together)" : ''}; log loss clips P(FAKE) to [1e-15, 1-1e-15].</p>
${runSection(r)}
<section><h2>Summary (default strategy ${esc(r.strategy)}, whole index)</h2><div class="scroll">${summaryTable(r)}</div></section>
${LEVELS.map((l) => chartSection(l, charts)).join('\n')}
<section><h2>By data set, method and compression</h2><div class="scroll">${groupsTable(r)}</div></section>
<section><h2>Aggregation strategies (video level)</h2><div class="scroll">${strategiesTable(r)}</div></section>
${comparisonsTable(r)}
${calibrationTable(r)}
${stackingSection(r)}
<section><h2>Worst-scored videos</h2><div class="scroll">${worstTable(r)}</div></section>
${failuresSection(r)}
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<script>${chartJs}</script>
<script>${BOOT}</script>
</body></html>
`;
}

export class ReportWriteError extends UnmaskError {
  constructor(path: string, detail: string) {
    super('REPORT_WRITE', `cannot write report ${path}: ${detail}`);
  }
}

/** Reads `resultsPath`, writes the report to `outPath`; returns what it wrote. */
export async function writeHtmlReport(resultsPath: string, outPath: string): Promise<{ bytes: number; charts: number }> {
  const results = await readEvalResults(resultsPath);
  const html = renderReportHtml(results, await chartJsUmdSource());
  try {
    await writeFile(outPath, html);
  } catch (e) {
    throw new ReportWriteError(outPath, (e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]);
  }
  return { bytes: Buffer.byteLength(html), charts: reportCharts(results).length };
}
