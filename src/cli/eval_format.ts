/** Text outputs of `unmask eval`: the summary tables on stdout and videos.csv. */
import { stringify } from 'csv-stringify/sync';
import type { EvalResults, Evaluation, MetricRecord, StackingEntry, VideoScore } from '../eval/eval_results.js';

const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(3));
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

function aucWithCi(m: MetricRecord): string {
  if (m.auc === null) return '-';
  return m.aucCi95 ? `${f3(m.auc)} [${f3(m.aucCi95[0])}, ${f3(m.aucCi95[1])}]` : f3(m.auc);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const METRIC_HEADER = ['n (fake/real)', 'AUC [95% CI]', 'log loss', 'acc', 'bal acc', 'EER', 'AP', 'ECE'];
function metricCells(m: MetricRecord): string[] {
  return [`${m.n} (${m.positives}/${m.negatives})`, aucWithCi(m), f3(m.logLoss), f3(m.accuracy), f3(m.balancedAccuracy), f3(m.eer), f3(m.averagePrecision), f3(m.ece)];
}

/** Frame level, then video level under the default strategy, then the other strategies. */
function levelOrder(r: EvalResults, e: Evaluation): number {
  if (e.level === 'frame') return 0;
  return e.strategy === r.strategy ? 1 : 2;
}

/** The summary: model x level (x strategy) over all inputs, per-group figures, calibration, notes. */
export function formatSummary(r: EvalResults): string {
  const models = [...new Set(r.evaluations.map((e) => e.model))];
  const order = (e: Evaluation) => models.indexOf(e.model) * 10 + levelOrder(r, e);
  const all = r.evaluations.filter((e) => e.groupBy === 'all').sort((a, b) => order(a) - order(b));
  const out: string[] = [];
  out.push(
    table(
      ['model', 'level', 'strategy', ...METRIC_HEADER],
      all.map((e) => [e.model, e.level, e.level === 'frame' ? '-' : e.strategy, ...metricCells(e.metrics)]),
    ),
  );
  const groups = r.evaluations
    .filter((e) => e.groupBy !== 'all' && (e.level === 'frame' || e.strategy === r.strategy))
    .sort((a, b) => models.indexOf(a.model) - models.indexOf(b.model) || a.groupBy.localeCompare(b.groupBy) || a.group.localeCompare(b.group) || levelOrder(r, a) - levelOrder(r, b));
  if (r.clusterBy === 'group') out.push("AUC intervals: bootstrap over groups (inputs of one class sharing the index's group column are drawn together)");
  if (groups.length) {
    out.push('', `by group (video level: ${r.strategy}; method groups include the data set's REAL inputs)`);
    out.push(table(['model', 'by', 'group', 'level', ...METRIC_HEADER], groups.map((e) => [e.model, e.groupBy, e.group, e.level, ...metricCells(e.metrics)])));
  }
  if (r.comparisons?.length) {
    out.push('', `paired differences (video level, ${r.strategy}; model minus baseline on the inputs both scored, paired bootstrap 95% CI)`);
    out.push(
      table(
        ['model', 'baseline', 'n', 'AUC difference [95% CI]'],
        r.comparisons.map((c) => [
          c.model, c.baseline, String(c.n),
          `${signed(c.aucDifference)}${c.aucDifferenceCi95 ? ` [${signed(c.aucDifferenceCi95[0])}, ${signed(c.aucDifferenceCi95[1])}]` : ''}`,
        ]),
      ),
    );
  }
  if (r.calibration?.length) {
    out.push('', 'calibration (measured on the evaluated inputs)');
    out.push(
      table(
        ['model', 'method', 'level', 'fitted on', 'temperature', 'a', 'b', 'ECE before', 'ECE after', 'log loss before', 'log loss after', 'manifest'],
        r.calibration.map((c) => [
          c.model, c.method, c.level ?? '-', String(c.fittedOn ?? '-'), f3(c.temperature), f3(c.a), f3(c.b),
          f3(c.eceBefore), f3(c.eceAfter), f3(c.logLossBefore), f3(c.logLossAfter), c.manifestOut,
        ]),
      ),
    );
  }
  if (r.stacking) out.push('', ...formatStacking(r.stacking));
  const notes = [...new Set(all.map((e) => e.metrics.note).filter(Boolean))];
  if (notes.length) out.push('', ...notes.map((n) => `note: ${n}`));
  if (r.failures.length) out.push('', `${r.failures.length} input(s) could not be scanned (listed under "failures" in results.json)`);
  return `${out.join('\n')}\n`;
}

/** The stacking fit: weights, then its out-of-fold figures against the equal mean. */
function formatStacking(s: StackingEntry): string[] {
  const ci = s.aucDifferenceCi95 ? ` [${signed(s.aucDifferenceCi95[0])}, ${signed(s.aucDifferenceCi95[1])}]` : '';
  return [
    `stacking (fitted on ${s.fittedOn} inputs of ${s.validationIndex}; not on the evaluated inputs unless they overlap)`,
    table(['member', 'coefficient'], [...s.members.map((m, i) => [m, f3(s.coef[i])]), ['(intercept)', f3(s.intercept)]]),
    `out of ${s.folds} folds by identity: video AUC ${f3(s.outOfFold.auc)} / log loss ${f3(s.outOfFold.logLoss)}; equal mean ${f3(s.equalMean.auc)} / ${f3(s.equalMean.logLoss)}` +
      (s.aucDifference === null ? '' : `; paired AUC difference ${signed(s.aucDifference)}${ci}`),
    `wrote ${s.manifestOut}`,
  ];
}

export const VIDEOS_CSV_COLUMNS = ['path', 'label', 'dataset', 'method', 'compression', 'model', 'strategy', 'verdict', 'probability'] as const;

/** videos.csv: one line per input x scorer x strategy; an empty probability for NO_FACE and errors. */
export function formatVideosCsv(videos: readonly VideoScore[]): string {
  return stringify(
    videos.map((v) => ({ ...v, verdict: v.verdict ?? 'ERROR', probability: v.probability ?? '' })),
    { header: true, columns: [...VIDEOS_CSV_COLUMNS] },
  );
}
