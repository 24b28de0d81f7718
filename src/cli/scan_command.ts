/** `unmask scan`: verdicts for videos, images and directories. */
import { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { STRATEGY_NAMES } from '../aggregate/strategies.js';
import { DEFAULT_MEMBER_SCHEDULE, MEMBER_SCHEDULES } from '../models/member_schedule.js';
import { parseSampling } from '../media/sampling.js';
import { FaceExplainer } from '../pipeline/explain_faces.js';
import { collectInputsWithNote } from '../pipeline/inputs.js';
import { DEFAULT_SCAN_JOBS, scanMany } from '../pipeline/scan_many.js';
import { Scanner } from '../pipeline/scanner.js';
import type { ScanResult } from '../pipeline/scan_result.js';
import type { FaceCrop } from '../types.js';
import { InvalidOptionError } from '../util/errors.js';
import { addDetectorOptions, choice, detectorOptionsFrom, floatOption, intOption, strategyOption } from './options.js';
import { progressBar } from './progress.js';
import { checkScanVisuals, writeScanVisuals } from './scan_visuals.js';
import { formatCsv, formatJson, formatTable } from './scan_format.js';

export function scanCommand(): Command {
  return addDetectorOptions(
    new Command('scan')
      .description('tell whether each video or image shows a face-manipulated person')
      .argument('<inputs...>', 'videos, images or directories (searched recursively)')
      .option('-m, --model <manifest|name>', 'model manifest or shipped model name; repeat for an ensemble', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--sample <policy>', "frames to look at: uniform:N | fps:R | clip:N | range:START:N (default uniform:32, or a clip model's own, e.g. clip:64); uniform:N:exact / fps:R:exact decode exactly those frame numbers instead of the nearest reference frames")
      .option('--strategy <name>', `frame->video aggregation: ${STRATEGY_NAMES.join(' | ')}`, strategyOption, 'mean-logit')
      .option('--member-schedule <s>', `which members of an ensemble score each frame: alternate (first frame with faces all, then one each in turn) | every-frame`, choice('--member-schedule', MEMBER_SCHEDULES), DEFAULT_MEMBER_SCHEDULE),
  )
    .option('--threads <n>', 'onnxruntime threads per classifier model (the face detector uses 1)', intOption('--threads'))
    .option('-j, --jobs <n>', 'inputs scanned at once, sharing the loaded models (1 with --explain)', intOption('--jobs'), DEFAULT_SCAN_JOBS)
    .option('--json', 'print one JSON document (schema unmask.scan-batch/1)')
    .option('--csv', 'print filename,label,verdict (label = P(fake), DFDC submission style)')
    .option('--missing-label <p>', 'with --csv: the label written for inputs with no face or an error (default: empty; the verdict column names them either way)', floatOption('--missing-label', 0, 1))
    .option('-o, --out <file>', 'write the JSON/CSV/table to a file instead of stdout')
    .option('--annotate <file>', 'also write the input with each face boxed and labelled with its running P(fake) (.mp4/.mkv/.mov; .png/.jpg/.webp for an image); one input only')
    .option('--explain <dir>', 'also write, per face crop, the model\'s explanation map over the crop as PNG (Grad-CAM, or the attention map of attention models) into <dir>/<input>/<model>/')
    .option('--timeline <file>', 'also write a chart of P(fake) per sampled frame per face track (.svg or .png); one input only')
    .action(async (paths: string[], o) => {
      if (o.json && o.csv) throw new InvalidOptionError('choose one of --json and --csv');
      if (o.missingLabel !== undefined && !o.csv) throw new InvalidOptionError('--missing-label goes with --csv');
      const { inputs, skippedNote: note } = await collectInputsWithNote(paths);
      if (!inputs.length) throw new InvalidOptionError(`no video or image files found in ${paths.join(', ')}${note ? ` (${note})` : ''}`);
      if (note) process.stderr.write(`unmask: ${note}\n`);
      checkScanVisuals(o, inputs.length);
      // open, not create: the first input is probed, decoded and detected while the classifiers load
      const scanner = await Scanner.open({
        models: o.model,
        sampling: o.sample === undefined ? undefined : parseSampling(o.sample),
        strategy: o.strategy,
        memberSchedule: o.memberSchedule,
        detector: detectorOptionsFrom(o),
        threads: o.threads,
      });
      // --explain: the maps of the crops each scan hands out (see explain_faces.ts)
      let explainer: FaceExplainer | null = null;
      if (o.explain) {
        try {
          explainer = await FaceExplainer.create(scanner.options.models, scanner.options.threads);
        } catch (e) {
          await scanner.dispose();
          throw e;
        }
        for (const w of explainer.warnings) process.stderr.write(`unmask: ${w}\n`);
      }
      let results: ScanResult[];
      const bar = progressBar(inputs.length, 'scan');
      try {
        // --explain: one input at a time, each scan's crops explained before the next starts
        const crops: (readonly FaceCrop[])[] = [];
        results = await scanMany(
          scanner,
          inputs.map((inp) => inp.path),
          {
            jobs: explainer ? 1 : o.jobs,
            hooks: (i) => (explainer ? { onCrops: (c) => (crops[i] = c) } : {}),
            onResult: async (r, i) => {
              if (explainer && r.status === 'ok') await explainer.explain(crops[i] ?? [], inputs[i].key, o.explain);
              delete crops[i];
              bar.tick(inputs[i].key);
            },
          },
        );
        // models that failed to load fail the command, even when no input got as far as classifying
        await scanner.ready;
      } finally {
        bar.stop();
        await Promise.all([scanner.dispose(), explainer?.dispose()]);
      }
      const text = o.json ? formatJson(results) : o.csv ? formatCsv(results, o.missingLabel) : formatTable(results);
      if (o.out) await writeFile(o.out, text.endsWith('\n') ? text : `${text}\n`);
      else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      if (o.annotate || o.timeline) await writeScanVisuals(results[0], o);
      const failed = results.filter((r) => r.status === 'error');
      for (const r of failed) process.stderr.write(`unmask: ${r.error?.message}\n`);
      // 0 when every input was scanned (whatever the verdicts); 2 when none could be; 1 when some could not.
      process.exitCode = failed.length === 0 ? 0 : failed.length === results.length ? 2 : 1;
    });
}
