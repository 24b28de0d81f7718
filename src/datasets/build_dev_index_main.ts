/**
 * Node entry: build the development-set index CSV.
 *   node dist/src/datasets/build_dev_index_main.js <dataRoot> <out.csv>
 */
import { buildDevSetIndex } from './dev_set.js';
import { writeIndexCsv, type IndexRow } from './index_row.js';
import { UnmaskError } from '../util/errors.js';

function summary(rows: readonly IndexRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.split}\t${r.dataset}\t${r.label}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}\t${n}`)
    .join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [dataRoot, out] = argv;
  if (!dataRoot || !out) {
    process.stderr.write('usage: build_dev_index_main <dataRoot> <out.csv>\n');
    return 2;
  }
  const rows = await buildDevSetIndex(dataRoot);
  await writeIndexCsv(rows, out);
  process.stdout.write(`${summary(rows)}\nwrote ${rows.length} rows to ${out}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof UnmaskError ? err.message : String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
