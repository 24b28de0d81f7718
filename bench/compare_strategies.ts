/**
 * Compares the aggregation strategies on the same frame scores: a thin wrapper over `unmask eval`'s
 * library code (scans through its cache, then reads the video-level evaluations of every strategy).
 * Prints a table; not a test. `unmask eval` itself reports the same and more.
 *
 *   node dist/bench/compare_strategies.js <index.csv> [--split test] [--model manifest] [--frames 32] [--out dir]
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readIndexCsv } from '../src/datasets/index_row.js';
import { resolveRunModels, runScans } from '../src/eval/eval_runner.js';
import { evaluate } from '../src/eval/evaluate.js';
import { selectRows } from '../src/eval/select_rows.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const index = args[0];
if (!index) throw new Error('usage: compare_strategies <index.csv> [--split test] [--model manifest] [--frames 32] [--out dir]');
const split = opt('--split', 'test');
const rows = selectRows(await readIndexCsv(index), { split });
const models = await resolveRunModels(opt('--model', '') ? [opt('--model', '')] : []);
const scans = await runScans(rows, {
  outDir: opt('--out', join(tmpdir(), 'unmask-compare-strategies')),
  models,
  settings: { sampling: { kind: 'uniform', count: Number(opt('--frames', '32')) }, detector: {}, tracker: {} },
});
const r = evaluate(scans.inputs, {
  index: resolve(index),
  filter: { split },
  models: models.map((m) => m.entry),
  strategy: 'mean-logit',
  worst: 0,
  timings: { seconds: 0, scanned: scans.scanned, cached: scans.cached },
});
const video = r.evaluations.filter((e) => e.level === 'video' && e.groupBy === 'all');
const m = video[0].metrics;
console.log(`${rows.length} inputs (${m.positives} FAKE, ${m.negatives} REAL scored; ${m.unscored ?? 0} without faces or unreadable)`);
console.log('strategy     video AUC [95% CI]        log loss');
for (const e of video) {
  const ci = e.metrics.aucCi95 ? ` [${e.metrics.aucCi95.map((x) => x.toFixed(3)).join(', ')}]` : '';
  console.log(`${e.strategy.padEnd(12)} ${(e.metrics.auc?.toFixed(3) ?? '-') + ci}`.padEnd(38) + e.metrics.logLoss.toFixed(3));
}
