/** `unmask extract`: face crops + per-input JSON records for training and inspection. */
import { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readIndexCsv } from '../datasets/index_row.js';
import { parseSampling } from '../media/sampling.js';
import { extractAll } from '../pipeline/extract.js';
import { collectInputsWithNote, inputsFromRows, type MediaInput } from '../pipeline/inputs.js';
import { InvalidOptionError } from '../util/errors.js';
import { addDetectorOptions, cropPolicyOption, detectorOptionsFrom, floatOption, intOption } from './options.js';
import { progressBar } from './progress.js';

const LABEL_COLUMNS = ['key', 'label', 'dataset', 'split', 'group', 'method', 'compression'];

export function extractCommand(): Command {
  return addDetectorOptions(
    new Command('extract')
      .description('detect, track and crop faces; write crops and one JSON record per input (resumable)')
      .argument('[inputs...]', 'videos, images or directories (searched recursively)')
      .requiredOption('-o, --out <dir>', 'output directory')
      .option('--index <csv>', 'index CSV (path,label,dataset,split,group,method[,compression], as written by `unmask index`) instead of / besides inputs')
      .option('--sample <policy>', 'uniform:N | fps:R | clip:N | range:START:N (uniform:N:exact / fps:R:exact: exactly those frame numbers)', 'uniform:32')
      .option('--crop <policy>', 'scale | margin | align', cropPolicyOption, 'margin')
      .option('--margin <f>', 'border per side for --crop margin, fraction of the face box', floatOption('--margin', 0, 2), 0.3)
      .option('--size <px>', 'crop side in pixels', intOption('--size', 16), 256)
      .option('--format <fmt>', 'png | jpg', 'png'),
  )
    .option('-j, --jobs <n>', 'inputs processed at once', intOption('--jobs'), 2)
    .option('--force', 're-extract inputs that already have a record', false)
    .action(async (paths: string[], o) => {
      if (o.format !== 'png' && o.format !== 'jpg') throw new InvalidOptionError(`--format must be png or jpg, got '${o.format}'`);
      const inputs: MediaInput[] = [];
      if (o.index) inputs.push(...inputsFromRows(await readIndexCsv(o.index)));
      const { inputs: named, skippedNote } = await collectInputsWithNote(paths);
      inputs.push(...named);
      if (skippedNote) process.stderr.write(`unmask: ${skippedNote}\n`);
      if (!inputs.length) throw new InvalidOptionError('nothing to extract: give inputs or --index');
      const bar = progressBar(inputs.length, 'extract');
      const outcomes = await extractAll(
        inputs,
        {
          outDir: o.out,
          sampling: parseSampling(o.sample),
          crop: { policy: o.crop, margin: o.margin, size: o.size },
          tracker: {},
          format: o.format,
          concurrency: o.jobs,
          detector: detectorOptionsFrom(o),
          force: o.force,
        },
        (r) => bar.tick(r.key),
      );
      bar.stop();
      const rows = inputs.map((i) => [i.key, ...LABEL_COLUMNS.slice(1).map((c) => i.meta?.[c] ?? '')]);
      await writeFile(join(o.out, 'labels.csv'), stringify([LABEL_COLUMNS, ...rows]));
      const count = (s: string) => outcomes.filter((r) => r.status === s).length;
      const faces = outcomes.reduce((s, r) => s + r.faces, 0);
      process.stdout.write(
        `extracted ${count('ok')} inputs (${faces} faces), no face in ${count('no_face')}, skipped ${count('skipped')} already done, errors ${count('error')}\n`,
      );
      for (const r of outcomes.filter((x) => x.status === 'error')) process.stdout.write(`  error ${r.key}: ${r.error}\n`);
    });
}
