/** Which index rows an evaluation uses: filters by split and data set, and a seeded, label-stratified subset. */
import type { IndexRow } from '../datasets/index_row.js';
import { seededRandom } from './bootstrap.js';
import type { EvalRow } from './evaluate.js';

export interface RowFilter {
  split?: string;
  dataset?: string;
  /** At most this many rows, keeping the REAL/FAKE proportions (seeded). */
  limit?: number;
  seed?: number;
}

/** An index row as evaluated (`compression` is '' when the index has no such column). */
export function toEvalRow(r: IndexRow): EvalRow {
  return { path: r.path, label: r.label, dataset: r.dataset, split: r.split, method: r.method ?? '', compression: r.compression ?? '', group: r.group };
}

/**
 * `limit` rows out of `rows`, the same fraction of each label (rounded; the rounding remainder goes
 * to the label with the larger fractional share), each label's rows drawn by a seeded shuffle. Rows
 * keep their index order. Same rows, limit and seed: same subset.
 */
export function stratifiedSubset<T extends { label: string }>(rows: readonly T[], limit: number, seed = 1): T[] {
  if (limit >= rows.length) return [...rows];
  const byLabel = new Map<string, number[]>();
  rows.forEach((r, i) => byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), i]));
  const labels = [...byLabel.keys()].sort();
  const exact = labels.map((l) => (limit * byLabel.get(l)!.length) / rows.length);
  const take = exact.map(Math.floor);
  let left = limit - take.reduce((a, b) => a + b, 0);
  const byRemainder = labels.map((_, i) => i).sort((a, b) => exact[b] - take[b] - (exact[a] - take[a]) || a - b);
  for (const i of byRemainder) if (left-- > 0) take[i]++;
  const rand = seededRandom(seed);
  const chosen: number[] = [];
  labels.forEach((l, li) => {
    const idx = [...byLabel.get(l)!];
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    chosen.push(...idx.slice(0, take[li]));
  });
  return chosen.sort((a, b) => a - b).map((i) => rows[i]);
}

/** Rows of `split` and `dataset` (when given), then the stratified subset of `limit` (when given). */
export function selectRows(rows: readonly IndexRow[], f: RowFilter): EvalRow[] {
  const kept = rows.filter((r) => (f.split === undefined || r.split === f.split) && (f.dataset === undefined || r.dataset === f.dataset));
  const sub = f.limit === undefined ? kept : stratifiedSubset(kept, f.limit, f.seed);
  return sub.map(toEvalRow);
}
