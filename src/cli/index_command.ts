/** `unmask index`: a data set copy -> index CSV (path,label,dataset,split,group,method,compression). */
import { Command } from 'commander';
import { z } from 'zod';
import { writeIndexCsv } from '../datasets/index_row.js';
import { formatIndexSummary, indexDataset, INDEX_KINDS, INDEXERS } from '../datasets/indexers/index.js';
import { InvalidOptionError } from '../util/errors.js';

const IndexArgsSchema = z.object({
  kind: z.enum(INDEX_KINDS),
  root: z.string().min(1, 'must not be empty'),
  out: z.string({ error: 'is required (the index CSV to write)' }).min(1, 'must not be empty'),
  splitFrom: z.string().min(1, 'must not be empty').optional(),
});

function parseArgs(raw: unknown): z.infer<typeof IndexArgsSchema> {
  const r = IndexArgsSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = String(issue?.path[0] ?? '');
  if (field === 'kind') throw new InvalidOptionError(`kind must be one of ${INDEX_KINDS.join(', ')}; got '${(raw as { kind?: unknown }).kind}'`);
  const flag = { out: '--out', splitFrom: '--split-from', root: '<root>' }[field] ?? field;
  throw new InvalidOptionError(`${flag} ${issue?.message}`);
}

const KIND_HELP = INDEX_KINDS.map((k) => `  ${k.padEnd(8)} ${INDEXERS[k].describe}`).join('\n');

export function indexCommand(): Command {
  return new Command('index')
    .description('index a data set copy in place: one CSV row per labelled video/image, with split and identity group')
    .argument('<kind>', INDEX_KINDS.join(' | '))
    .argument('<root>', 'the data set folder (for folder: a folder tree or a CSV of file,label)')
    // Checked by the schema rather than commander, so a missing --out is a one-line `unmask:` error, exit 2.
    .option('-o, --out <csv>', 'index CSV to write (required)')
    .option('--split-from <path>', 'official split: ffpp = folder with train/val/test.json (default <root>/splits); celebdf = testing list (default <root>/List_of_testing_videos.txt)')
    .addHelpText(
      'after',
      `\nKinds:\n${KIND_HELP}\n\nFiles that cannot be indexed (listed but missing, empty, unreadable, unlabelled, invalid metadata)\n` +
        'are listed in the summary. Exit 0: index written, no problems; 1: written, with problems; 2: nothing written.',
    )
    .action(async (kind: string, root: string, o: { out?: string; splitFrom?: string }) => {
      const args = parseArgs({ kind, root, out: o.out, splitFrom: o.splitFrom });
      const report = await indexDataset(args.kind, args.root, { splitFrom: args.splitFrom });
      await writeIndexCsv(report.rows, args.out);
      process.stdout.write(formatIndexSummary(report));
      process.stdout.write(`wrote ${report.rows.length} rows to ${args.out}\n`);
      process.exitCode = report.problems.length ? 1 : 0;
    });
}
