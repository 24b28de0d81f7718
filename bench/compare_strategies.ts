/**
 * Compares the aggregation strategies on the same frame scores: scans every video of one split of
 * an index CSV once (default: the `test` split, FF++ c40 videos held out of training), then scores
 * each strategy's video probabilities with AUC and log loss. Prints a table; not a test.
 *
 *   node dist/bench/compare_strategies.js <index.csv> [--split test] [--model manifest] [--frames 32]
 */
import { readIndexCsv } from '../src/datasets/dev_set.js';
import { aggregateVideo } from '../src/aggregate/aggregate.js';
import { STRATEGY_NAMES, getStrategy } from '../src/aggregate/strategies.js';
import { logLoss, rocAuc, type BinaryLabel } from '../src/eval/metrics.js';
import { logit } from '../src/aggregate/prob.js';
import { Scanner } from '../src/pipeline/scanner.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const index = args[0];
if (!index) throw new Error('usage: compare_strategies <index.csv> [--split test] [--model manifest] [--frames 32]');
const rows = (await readIndexCsv(index)).filter((r) => r.split === opt('--split', 'test'));
const model = opt('--model', '');
const scanner = await Scanner.create({ models: model ? [model] : [], sampling: { kind: 'uniform', count: Number(opt('--frames', '32')) } });
const scored: { label: BinaryLabel; frames: { frameIndex: number; trackId: number; logit: number }[] }[] = [];
let noFace = 0;
for (const r of rows) {
  const res = await scanner.scan(r.path);
  if (res.status !== 'ok' || res.frames.length === 0) {
    noFace++;
    continue;
  }
  scored.push({ label: r.label === 'FAKE' ? 1 : 0, frames: res.frames.map((f) => ({ frameIndex: f.frameIndex, trackId: f.trackId, logit: logit(f.probability) })) });
  process.stderr.write('.');
}
process.stderr.write('\n');
const band = { realBelow: 0.5, fakeAbove: 0.5 };
console.log(`${rows.length} videos (${scored.filter((s) => s.label === 1).length} FAKE, ${scored.filter((s) => s.label === 0).length} REAL scored; ${noFace} without faces or unreadable)`);
console.log('strategy     video AUC  video log loss');
for (const name of STRATEGY_NAMES) {
  const probs = scored.map((s) => aggregateVideo(s.frames, getStrategy(name), band).probability!);
  const labels = scored.map((s) => s.label);
  console.log(`${name.padEnd(12)} ${rocAuc(labels, probs).toFixed(3).padStart(9)}  ${logLoss(labels, probs).toFixed(3).padStart(14)}`);
}
await scanner.dispose();
