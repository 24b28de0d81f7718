/**
 * The index row: one labelled video or image, as written by every indexer (`unmask index`, the
 * development-set index) and read by `extract --index`, eval and the benches.
 *
 * Columns: `path,label,dataset,split,group,method,compression`.
 * - `path`: absolute.
 * - `label`: REAL | FAKE.
 * - `dataset`: which data set the file belongs to (`ffpp`, `dfdc`, `celebdf`, ...).
 * - `split`: `train` | `val` | `test`, or `excluded` (kept out of every split, e.g. a training row
 *   that shares a person with evaluation rows, or a FF++ pair the official split files place on two sides).
 * - `group`: the identity ids the file involves, joined by `+` (`ffpp:033+ffpp:097`). Rows sharing an
 *   id must stay on one side of a split, or the split leaks identities.
 * - `method`: the manipulation method when known (Deepfakes, Face2Face, ...), else empty.
 * - `compression`: the encoding level when the data set says it (FF++ `c0`/`c23`/`c40`), else empty.
 *   Optional on read: index files written before it existed still read, with `''`.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { UnmaskError } from '../util/errors.js';

export class DatasetIndexError extends UnmaskError {
  constructor(message: string) {
    super('DATASET_INDEX', message);
  }
}

export const INDEX_COLUMNS = ['path', 'label', 'dataset', 'split', 'group', 'method', 'compression'] as const;

export const SPLITS = ['train', 'val', 'test', 'excluded'] as const;

export const IndexRowSchema = z.object({
  path: z.string().min(1),
  label: z.enum(['REAL', 'FAKE']),
  dataset: z.string().min(1),
  split: z.enum(SPLITS),
  group: z.string().min(1),
  method: z.string().default(''),
  compression: z.string().default(''),
});
export type IndexRow = z.infer<typeof IndexRowSchema>;
export type Label = IndexRow['label'];
export type Split = IndexRow['split'];

export type CsvRecord = Record<string, string>;

/** CSV with a header line, as objects keyed by column name (values trimmed, blank lines skipped). */
export async function readCsvRecords(path: string): Promise<CsvRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new DatasetIndexError(`cannot read manifest ${path}`);
  }
  try {
    return parse(text, { columns: true, skip_empty_lines: true, trim: true }) as CsvRecord[];
  } catch (e) {
    throw new DatasetIndexError(`${path}: not a valid CSV (${(e as Error).message.split('\n')[0]})`);
  }
}

export async function writeIndexCsv(rows: readonly IndexRow[], path: string): Promise<void> {
  const text = stringify(rows as IndexRow[], { header: true, columns: [...INDEX_COLUMNS] });
  await mkdir(dirname(resolve(path)), { recursive: true });
  await writeFile(path, text, 'utf8');
}

export async function readIndexCsv(path: string): Promise<IndexRow[]> {
  const recs = await readCsvRecords(path);
  return recs.map((rec, i) => {
    const r = IndexRowSchema.safeParse(rec);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new DatasetIndexError(`${path}:${i + 2}: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    return r.data;
  });
}
