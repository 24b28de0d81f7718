/**
 * `unmask eval <index.csv> --model ... --out <dir>`: scans the inputs of an index (resumable cache),
 * measures every model and their ensemble at frame and video level, per data set, method and
 * compression, compares the aggregation strategies, optionally recalibrates, and writes
 * `results.json` (schema unmask.eval/1), `videos.csv` and a summary on stdout.
 */
import { Command } from 'commander';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { STRATEGY_NAMES, type StrategyName } from '../aggregate/strategies.js';
import { readIndexCsv } from '../datasets/index_row.js';
import type { SamplingPolicy } from '../media/sampling.js';
import { calibrateMember, type CalibrationMethod } from '../eval/calibrate_models.js';
import { writeCalibratedManifest } from '../eval/calibrated_manifest.js';
import { CLUSTER_BY, parseEvalResults, type CalibrationEntry, type EvalResults, type Level, type StackingEntry } from '../eval/eval_results.js';
import { resolveRunModels, runScans, type RunModel } from '../eval/eval_runner.js';
import { DEFAULT_WORST_COUNT, evaluate, videoScores, type ClusterBy, type EvalInput, type EvalRow } from '../eval/evaluate.js';
import { selectRows } from '../eval/select_rows.js';
import { DEFAULT_SCAN_JOBS } from '../pipeline/scan_many.js';
import { writeStackedManifest } from '../eval/stacked_manifest.js';
import { DEFAULT_STACKING_FOLDS, fitStacking } from '../eval/stacking.js';
import { addThumbnails } from '../eval/thumbnails.js';
import { DEFAULT_MEMBER_SCHEDULE, MEMBER_SCHEDULES, type MemberSchedule } from '../models/member_schedule.js';
import { InvalidOptionError } from '../util/errors.js';
import { formatSummary, formatVideosCsv } from './eval_format.js';
import { addDetectorOptions, choice, type DetectorCliOptions, detectorOptionsFrom, intOption, samplingOption, strategyOption } from './options.js';
import { progressBar, type Progress } from './progress.js';

interface EvalCliOptions extends DetectorCliOptions {
  model: string[];
  out: string;
  split?: string;
  dataset?: string;
  limit?: number;
  seed: number;
  sample?: SamplingPolicy;
  strategy: StrategyName;
  memberSchedule: MemberSchedule;
  threads?: number;
  /** Inputs scanned at once. */
  jobs: number;
  bootstrap: number;
  clusterBy: ClusterBy;
  worst: number;
  calibrate?: string;
  fitCalibration?: boolean;
  calibrationSplit?: string;
  calibrationLimit?: number;
  calibration: CalibrationMethod;
  calibrationLevel: Level;
  fitStacking?: string;
  stackingFolds: number;
}

export function evalCommand(): Command {
  return addDetectorOptions(
    new Command('eval')
      .description('measure models on a labelled index: AUC (bootstrap CI), log loss, accuracy, EER, AP, calibration; per data set, method, compression')
      .argument('<index.csv>', 'index of labelled inputs (columns path,label,dataset,split,group,method[,compression]; see `unmask index`)')
      .requiredOption('-o, --out <dir>', 'folder for results.json, videos.csv, the scan cache and calibrated manifests')
      .option('-m, --model <manifest|name>', 'model manifest or shipped model name; repeat to evaluate several (each alone and their ensemble)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--split <split>', 'only rows of this split (train, val, test, excluded)')
      .option('--dataset <name>', 'only rows of this data set')
      .option('--limit <n>', 'at most n rows, REAL/FAKE proportions kept, chosen with --seed', intOption('--limit'))
      .option('--seed <n>', 'seed of --limit and of the bootstrap', intOption('--seed', 0), 1)
      .option('--sample <policy>', "frames to look at: uniform:N | fps:R | clip:N | range:START:N (default uniform:32, or a clip model's own, e.g. clip:64); uniform:N:exact / fps:R:exact decode exactly those frame numbers instead of the nearest reference frames", samplingOption)
      .option('--strategy <name>', `default frame->video aggregation (all of ${STRATEGY_NAMES.join(', ')} are measured)`, strategyOption, 'mean-logit')
      .option('--member-schedule <s>', `how ensemble rows combine their frame members per frame, as unmask scan: ${MEMBER_SCHEDULES.join(' | ')} (every model alone is always measured on every face)`, choice('--member-schedule', MEMBER_SCHEDULES), DEFAULT_MEMBER_SCHEDULE),
  )
    .option('--threads <n>', 'onnxruntime threads per model', intOption('--threads'))
    .option('-j, --jobs <n>', 'inputs scanned at once, sharing the loaded models', intOption('--jobs'), DEFAULT_SCAN_JOBS)
    .option('--bootstrap <n>', 'bootstrap resamples for the AUC interval (0: no interval)', intOption('--bootstrap', 0), 1000)
    .option('--cluster-by <unit>', "what a bootstrap resample draws: input (each input alone) | group (all inputs of one class sharing the index's group column, e.g. the stills cut from one video); point figures are the same", choice('--cluster-by', CLUSTER_BY), 'input')
    .option('--worst <n>', 'worst-scored inputs kept per model, with a face thumbnail', intOption('--worst', 0), DEFAULT_WORST_COUNT)
    .option('--calibrate <val-index.csv>', 'fit calibration on this validation index and write calibrated manifest copies')
    .option('--fit-calibration', 'fit calibration on the --calibration-split rows of the evaluated index')
    .option('--calibration-split <split>', 'rows of the calibration index to fit on (default: all of --calibrate, val with --fit-calibration)')
    .option('--calibration-limit <n>', 'at most n calibration rows (stratified, --seed)', intOption('--calibration-limit'))
    .option('--calibration <method>', 'temperature | platt', choice('--calibration', ['temperature', 'platt'] as const), 'temperature')
    .option('--calibration-level <level>', 'fit on video probabilities (by --strategy) or on face logits: video | frame', choice('--calibration-level', ['video', 'frame'] as const), 'video')
    .option('--fit-stacking <x.ensemble.json>', 'fit member weights (logistic regression on the models\' calibrated video logits) on the calibration rows (--calibrate, else --calibration-split, default val) and write them as a stacked ensemble manifest')
    .option('--stacking-folds <k>', 'folds by identity group for the stacking fit\'s out-of-fold figures', intOption('--stacking-folds', 2), DEFAULT_STACKING_FOLDS)
    .action(async (indexPath: string, o: EvalCliOptions) => {
      const t0 = performance.now();
      if (o.calibrate && o.fitCalibration) throw new InvalidOptionError('choose one of --calibrate and --fit-calibration');
      const index = resolve(indexPath);
      const rows = selectRows(await readIndexCsv(index), { split: o.split, dataset: o.dataset, limit: o.limit, seed: o.seed });
      const filterText = [o.split && `split=${o.split}`, o.dataset && `dataset=${o.dataset}`].filter(Boolean).join(', ');
      if (rows.length === 0) throw new InvalidOptionError(`no rows in ${indexPath}${filterText ? ` with ${filterText}` : ''}`);
      const calRows = await calibrationRows(index, o);
      const models = await resolveRunModels(o.model);
      if (o.fitStacking) checkStackingTarget(o.fitStacking, models.length); // before a long scan, not after
      const out = resolve(o.out);
      await mkdir(out, { recursive: true });

      let bar: Progress | undefined;
      const scans = await runScans([...rows, ...calRows], {
        outDir: out,
        models,
        settings: {
          sampling: o.sample,
          detector: detectorOptionsFrom(o),
          tracker: {},
        },
        threads: o.threads,
        jobs: o.jobs,
        onStart: (toScan, cached) => {
          process.stderr.write(`eval: ${cached + toScan} files, ${cached} cached, ${toScan} to scan\n`);
          bar = progressBar(toScan, 'eval');
        },
        onScanned: (p) => bar?.tick(p),
      });
      bar?.stop();
      const inputs = scans.inputs.slice(0, rows.length);
      const calInputs = scans.inputs.slice(rows.length);

      const results = evaluate(inputs, {
        index,
        filter: { split: o.split, dataset: o.dataset, limit: o.limit },
        models: models.map((m) => m.entry),
        strategy: o.strategy,
        memberSchedule: o.memberSchedule,
        resamples: o.bootstrap,
        clusterBy: o.clusterBy,
        seed: o.seed,
        worst: o.worst,
        timings: { seconds: 0, scanned: scans.scanned, cached: scans.cached },
      });
      if (calRows.length && (o.calibrate || o.fitCalibration)) results.calibration = await calibrate(calInputs, inputs, models, o, out, index, rows);
      if (o.fitStacking) results.stacking = await stack(calInputs, models, o, o.calibrate ? resolve(o.calibrate) : index);
      await addThumbnails(results);
      results.timings.seconds = (performance.now() - t0) / 1000;

      const valid = parseEvalResults(results, 'eval results'); // never write a file `unmask report` rejects
      await writeFile(join(out, 'results.json'), JSON.stringify(valid));
      const allStrategies = STRATEGY_NAMES.flatMap((s) => videoScores(inputs, results.models, s, undefined, o.memberSchedule));
      await writeFile(join(out, 'videos.csv'), formatVideosCsv(allStrategies));
      process.stdout.write(formatSummary(valid));
      process.stdout.write(`\nwrote ${join(out, 'results.json')} and ${join(out, 'videos.csv')} (${scans.scanned} scanned, ${scans.cached} from cache, ${valid.timings.seconds.toFixed(1)} s)\n`);
      checkUsable(results, rows);
    });
}

/** Rows to fit calibration or stacking on: none without --calibrate / --fit-calibration / --fit-stacking. */
async function calibrationRows(index: string, o: EvalCliOptions): Promise<EvalRow[]> {
  if (!o.calibrate && !o.fitCalibration && !o.fitStacking) return [];
  const source = o.calibrate ? resolve(o.calibrate) : index;
  const split = o.calibrationSplit ?? (o.calibrate ? undefined : 'val');
  const rows = selectRows(await readIndexCsv(source), { split, limit: o.calibrationLimit, seed: o.seed });
  if (rows.length === 0) throw new InvalidOptionError(`no calibration rows in ${source}${split ? ` with split=${split}` : ''}`);
  return rows;
}

async function calibrate(
  calInputs: EvalInput[],
  inputs: EvalInput[],
  models: RunModel[],
  o: EvalCliOptions,
  out: string,
  index: string,
  rows: readonly EvalRow[],
): Promise<CalibrationEntry[]> {
  const evaluated = new Set(rows.map((r) => r.path));
  const overlap = calInputs.filter((c) => evaluated.has(c.row.path)).length;
  const validationIndex = o.calibrate ? resolve(o.calibrate) : index;
  const entries: CalibrationEntry[] = [];
  for (let i = 0; i < models.length; i++) {
    const fit = calibrateMember(calInputs, inputs, models.map((m) => m.entry), i, { method: o.calibration, level: o.calibrationLevel, strategy: o.strategy });
    const how = `${fit.method} fitted at ${fit.level} level (strategy ${o.strategy}) on ${fit.fittedOn} samples of ${validationIndex}`;
    const manifestOut = await writeCalibratedManifest(models[i].manifestPath, fit, join(out, 'calibrated'), how);
    const notes = [
      fit.method === 'platt' ? 'manifest copy: temperature = T0 / a and the decision band moved by -b (no intercept in the manifest)' : '',
      overlap ? `${overlap} calibration input(s) are also evaluated: the after figures are optimistic` : '',
    ].filter(Boolean);
    entries.push({
      model: fit.model,
      method: fit.method,
      temperature: fit.temperature,
      ...(fit.a !== undefined ? { a: fit.a, b: fit.b } : {}),
      eceBefore: fit.eceBefore,
      eceAfter: fit.eceAfter,
      logLossBefore: fit.logLossBefore,
      logLossAfter: fit.logLossAfter,
      manifestOut,
      level: fit.level,
      fittedOn: fit.fittedOn,
      validationIndex,
      ...(notes.length ? { note: notes.join('; ') } : {}),
    });
  }
  return entries;
}

/** @throws InvalidOptionError for a manifest path not ending in .json or fewer than two models. */
function checkStackingTarget(path: string, models: number): void {
  if (!path.endsWith('.json')) throw new InvalidOptionError(`--fit-stacking: the ensemble manifest path must end in .json (e.g. x.ensemble.json), got ${path}`);
  if (models < 2) throw new InvalidOptionError('--fit-stacking needs two or more models');
}

/** Fits stacking weights on the calibration rows' scans and writes the stacked ensemble manifest. */
async function stack(calInputs: EvalInput[], models: RunModel[], o: EvalCliOptions, validationIndex: string): Promise<StackingEntry> {
  const fit = fitStacking(calInputs, models.map((m) => m.entry), { strategy: o.strategy, folds: o.stackingFolds, resamples: o.bootstrap, seed: o.seed });
  const split = o.calibrationSplit ?? (o.calibrate ? undefined : 'val');
  const how = `${fit.fittedOn} inputs of ${validationIndex}${split ? ` (split ${split})` : ''}, strategy ${o.strategy}`;
  const manifestOut = await writeStackedManifest(o.fitStacking!, models.map((m) => m.manifestPath), models.map((m) => m.entry.band), fit, how);
  return {
    members: fit.members,
    coef: fit.coef,
    intercept: fit.intercept,
    fittedOn: fit.fittedOn,
    validationIndex,
    folds: fit.folds,
    outOfFold: fit.outOfFold,
    equalMean: fit.equalMean,
    aucDifference: fit.difference?.difference ?? null,
    aucDifferenceCi95: fit.difference?.ci95 ?? null,
    manifestOut,
  };
}

/** After the outputs are written: a one-line error (exit 2) if the run could not measure anything useful. */
function checkUsable(r: EvalResults, rows: readonly EvalRow[]): void {
  if (!r.videos.some((v) => v.probability !== null)) throw new InvalidOptionError('no input could be scored (no face found or every scan failed)');
  const labels = new Set(rows.map((x) => x.label));
  if (labels.size === 1) {
    throw new InvalidOptionError(`only ${[...labels][0]} inputs after filtering: AUC, EER and AP need both classes (other metrics written)`);
  }
}
