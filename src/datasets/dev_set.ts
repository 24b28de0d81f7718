/**
 * Development-set index: turns the manifests of the shared data folder (`../shared/data`) into one
 * CSV with a row per image or video: `path,label,dataset,split,group,method,compression` (see index_row.ts).
 *
 * - `group`: the identity ids a file involves, joined by `+` (a FF++ fake of target 033 with the
 *   face of source 097 is `ffpp:033+ffpp:097`). Training splits by connected components of these
 *   ids, so no identity appears on both sides of a split.
 * - `split`: a fixed rule, following the cross-dataset protocol of the data README: every FF++ set
 *   and every real-face set (`faces_real/*`) is `train`; every DFDC set is `val`. Validation is
 *   therefore always on a data set that the model never saw.
 * - `method`: the manipulation method when the manifest says it (Deepfakes, Face2Face, ...), else empty.
 * - `compression`: `c40` for `ffpp_c40`, `c23` for `ffpp_c23_faces`, else empty.
 *
 * The data itself is research-only: this module reads it in place and never copies it.
 */
import { access } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { DatasetIndexError, readCsvRecords, type CsvRecord, type IndexRow, type Label, type Split } from './index_row.js';

/**
 * The split rule: DFDC is held out for cross-dataset validation; the FF++ c40 videos are a
 * video-level test set (the only multi-frame videos of both classes, used to choose the aggregation
 * strategy); everything else trains. See `excludeLeaks` for identities shared across splits.
 */
export function splitForDataset(dataset: string): Split {
  if (dataset.startsWith('dfdc_')) return 'val';
  if (dataset === 'ffpp_c40') return 'test';
  return 'train';
}

/**
 * Training rows that share any identity id with a test or validation row become `excluded`, so
 * no person seen in evaluation was seen in training.
 */
export function excludeLeaks(rows: IndexRow[]): IndexRow[] {
  const held = new Set(rows.filter((r) => r.split === 'test' || r.split === 'val').flatMap((r) => r.group.split('+')));
  return rows.map((r) => (r.split === 'train' && r.group.split('+').some((id) => held.has(id)) ? { ...r, split: 'excluded' } : r));
}

function field(rec: CsvRecord, name: string, where: string): string {
  const v = rec[name];
  if (v === undefined) throw new DatasetIndexError(`${where}: missing column '${name}'`);
  return v;
}

function parseLabel(raw: string, where: string): Label {
  const up = raw.trim().toUpperCase();
  if (up === 'REAL' || up === 'FAKE') return up;
  throw new DatasetIndexError(`${where}: label '${raw}' is neither REAL nor FAKE`);
}

/** `xyz.mp4` -> `xyz`; an empty string stays empty. */
function stem(file: string): string {
  const b = basename(file);
  return b.slice(0, b.length - extname(b).length);
}

function row(dataRoot: string, file: string, label: Label, dataset: string, ids: string[], method: string): IndexRow {
  return {
    path: resolve(dataRoot, file),
    label,
    dataset,
    split: splitForDataset(dataset),
    group: ids.join('+'),
    method,
    compression: compressionForDataset(dataset),
  };
}

/** The FF++ encoding level of the dev-set folders that have one (their names say it). */
function compressionForDataset(dataset: string): string {
  if (dataset === 'ffpp_c40') return 'c40';
  if (dataset === 'ffpp_c23_faces') return 'c23';
  return '';
}

/** Identity of a DFDC media: the original video it was made from when known, else its own video id. */
function dfdcGroup(ownVideoId: string, originalIfKnown: string): string {
  const orig = stem(originalIfKnown);
  return `dfdc:${orig || ownVideoId}`;
}

const FFPP_FAKE = /^([A-Za-z0-9]+)__(\d+)_(\d+)\.mp4$/;
const FFPP_YOUTUBE = /^original_youtube__(\d+)\.mp4$/;
const DFD_ACTOR = /^original_actors__(\d+)__.+\.mp4$/;

function ffppC40Row(dataRoot: string, file: string, label: Label, where: string): IndexRow {
  const name = basename(file);
  let m = FFPP_YOUTUBE.exec(name);
  if (m) return row(dataRoot, file, expect(label, 'REAL', where), 'ffpp_c40', [`ffpp:${m[1]}`], '');
  // DFD actors are a different id space than the FF++ YouTube ids.
  m = DFD_ACTOR.exec(name);
  if (m) return row(dataRoot, file, expect(label, 'REAL', where), 'ffpp_c40', [`dfd:${m[1]}`], '');
  m = FFPP_FAKE.exec(name);
  if (m) return row(dataRoot, file, expect(label, 'FAKE', where), 'ffpp_c40', [`ffpp:${m[2]}`, `ffpp:${m[3]}`], m[1]);
  throw new DatasetIndexError(`${where}: unrecognised FF++ c40 file name '${name}'`);
}

function expect(label: Label, wanted: Label, where: string): Label {
  if (label !== wanted) throw new DatasetIndexError(`${where}: manifest says ${label} but the file name says ${wanted}`);
  return label;
}

/** `ffpp_face_crops/<Method|youtube>/roi_N.jpg`: no source id, so every file is its own identity. */
function ffppCropsRow(dataRoot: string, file: string, label: Label, where: string): IndexRow {
  const folder = basename(dirname(file));
  const isReal = folder === 'youtube';
  expect(label, isReal ? 'REAL' : 'FAKE', where);
  // File stems repeat across method folders (roi_0 is in each), so the folder is part of the id.
  return row(dataRoot, file, label, 'ffpp_face_crops', [`ffpp_crops:${folder}/${stem(file)}`], isReal ? '' : folder);
}

/** `dfdc_face_tracks/<label>/0_<video>.mp4_<a>_<b>.mp4` */
function dfdcTrackRow(dataRoot: string, file: string, label: Label, original: string, where: string): IndexRow {
  const m = /^\d+_([a-z0-9]+)\.mp4_/.exec(basename(file));
  if (!m) throw new DatasetIndexError(`${where}: unrecognised DFDC track file name '${basename(file)}'`);
  return row(dataRoot, file, label, 'dfdc_face_tracks', [dfdcGroup(m[1], original)], '');
}

/** `dfdc_face_crops/<label>/<video>-<frame>-<face>.png` */
function dfdcCropRow(dataRoot: string, file: string, label: Label, original: string, where: string): IndexRow {
  const m = /^([a-z0-9]+)-/.exec(basename(file));
  if (!m) throw new DatasetIndexError(`${where}: unrecognised DFDC crop file name '${basename(file)}'`);
  return row(dataRoot, file, label, 'dfdc_face_crops', [dfdcGroup(m[1], original)], '');
}

/** Folders that have their own manifest.csv; the top-level manifest does not describe them. */
const SUB_MANIFEST_FOLDERS = ['ffpp_c23_faces', 'dfdc_faces', 'faces_real/utkface', 'faces_real/celeba'] as const;

async function topLevelRows(dataRoot: string): Promise<IndexRow[]> {
  const manifest = resolve(dataRoot, 'manifest.csv');
  const recs = await readCsvRecords(manifest);
  const rows: IndexRow[] = [];
  recs.forEach((rec, i) => {
    const where = `${manifest}:${i + 2}`;
    const file = field(rec, 'file', where);
    const label = parseLabel(field(rec, 'label', where), where);
    const original = rec['original_if_known'] ?? '';
    const folder = file.split('/')[0];
    switch (folder) {
      case 'ffpp_c40':
        rows.push(ffppC40Row(dataRoot, file, label, where));
        break;
      case 'ffpp_face_crops':
        rows.push(ffppCropsRow(dataRoot, file, label, where));
        break;
      case 'dfdc_face_tracks':
        rows.push(dfdcTrackRow(dataRoot, file, label, original, where));
        break;
      case 'dfdc_face_crops':
        rows.push(dfdcCropRow(dataRoot, file, label, original, where));
        break;
      default:
        if (SUB_MANIFEST_FOLDERS.some((f) => file.startsWith(`${f}/`))) break;
        throw new DatasetIndexError(`${where}: no indexing rule for folder '${folder}'`);
    }
  });
  return rows;
}

async function ffppC23Rows(dataRoot: string): Promise<IndexRow[]> {
  const dir = resolve(dataRoot, 'ffpp_c23_faces');
  const manifest = resolve(dir, 'manifest.csv');
  return (await readCsvRecords(manifest)).map((rec, i) => {
    const where = `${manifest}:${i + 2}`;
    const label = parseLabel(field(rec, 'label', where), where);
    const target = field(rec, 'target_id', where);
    const source = field(rec, 'source_id', where);
    const method = field(rec, 'method', where);
    if (!target) throw new DatasetIndexError(`${where}: empty target_id`);
    // A real video has source == target; a fake involves both identities.
    const ids = label === 'FAKE' && source && source !== target ? [`ffpp:${target}`, `ffpp:${source}`] : [`ffpp:${target}`];
    return row(dir, field(rec, 'file', where), label, 'ffpp_c23_faces', ids, label === 'FAKE' ? method : '');
  });
}

async function dfdcFacesRows(dataRoot: string): Promise<IndexRow[]> {
  const dir = resolve(dataRoot, 'dfdc_faces');
  const manifest = resolve(dir, 'manifest.csv');
  return (await readCsvRecords(manifest)).map((rec, i) => {
    const where = `${manifest}:${i + 2}`;
    const label = parseLabel(field(rec, 'label', where), where);
    const video = stem(field(rec, 'video', where));
    const original = field(rec, 'original', where);
    if (label === 'FAKE' && !original) throw new DatasetIndexError(`${where}: DFDC fake without 'original'`);
    return row(dir, field(rec, 'file', where), label, 'dfdc_faces', [dfdcGroup(video, original)], '');
  });
}

/** faces_real/<name>: REAL only; `identity_or_video_id` is already a namespaced id (utk:<file>, celeba:<id>). */
async function realFacesRows(dataRoot: string, name: 'utkface' | 'celeba'): Promise<IndexRow[]> {
  const dir = resolve(dataRoot, 'faces_real', name);
  const manifest = resolve(dir, 'manifest.csv');
  return (await readCsvRecords(manifest)).map((rec, i) => {
    const where = `${manifest}:${i + 2}`;
    const label = expect(parseLabel(field(rec, 'label', where), where), 'REAL', where);
    const id = field(rec, 'identity_or_video_id', where);
    if (!id) throw new DatasetIndexError(`${where}: empty identity_or_video_id`);
    return row(dir, field(rec, 'file', where), label, name, [id], '');
  });
}

/**
 * Index every file of the shared data folder. The top-level manifest is required; the per-folder
 * manifests are read when their folder exists (a partial copy of the data still indexes).
 */
export async function buildDevSetIndex(dataRoot: string): Promise<IndexRow[]> {
  const root = resolve(dataRoot);
  const rows = await topLevelRows(root);
  const optional: Array<[string, () => Promise<IndexRow[]>]> = [
    ['ffpp_c23_faces', () => ffppC23Rows(root)],
    ['dfdc_faces', () => dfdcFacesRows(root)],
    ['faces_real/utkface', () => realFacesRows(root, 'utkface')],
    ['faces_real/celeba', () => realFacesRows(root, 'celeba')],
  ];
  for (const [folder, read] of optional) {
    if (await exists(resolve(root, folder, 'manifest.csv'))) rows.push(...(await read()));
  }
  return excludeLeaks(rows);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
