/**
 * Data set indexers on synthetic trees that mimic each layout (DFDC parts and Kaggle's flat
 * train_sample_videos, FF++ with and without official split files, Celeb-DF with its testing list,
 * folder trees and CSVs), including the broken cases: listed-but-missing, zero-byte, invalid
 * metadata.json, unknown labels, unlisted files, nothing labelled. Files are tiny placeholders:
 * indexing never decodes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, writeFile, rm, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readIndexCsv, type IndexRow } from '../src/datasets/index_row.js';
import { indexDataset, type IndexProblem, type IndexReport } from '../src/datasets/indexers/index.js';
import { componentKeys, splitByGroupHash, splitForId } from '../src/datasets/indexers/group_split.js';
import { formatIndexSummary } from '../src/datasets/indexers/report.js';
import { dfdcSplitForPart } from '../src/datasets/indexers/dfdc.js';
import { DatasetIndexError } from '../src/datasets/index_row.js';
import { InputNotFoundError, InvalidOptionError } from '../src/util/errors.js';
import { tempDir } from './helpers/temp_dir.js';

const execFileAsync = promisify(execFile);
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

/** Writes a file (non-empty placeholder by default), creating folders. */
async function put(root: string, rel: string, content: string = 'x'): Promise<string> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, content);
  return p;
}

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir('indexers');
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Short = [path: string, label: string, split: string, group: string, method: string, compression: string];

/** Rows as [path relative to root, label, split, group, method, compression], in report order. */
function short(report: IndexReport, root: string): Short[] {
  return report.rows.map((r) => [r.path.slice(root.length + 1), r.label, r.split, r.group, r.method, r.compression]);
}

function problemsOf(report: IndexReport, root: string): Array<[string, string]> {
  return report.problems.map((p: IndexProblem) => [p.kind, p.path.startsWith(root) ? p.path.slice(root.length + 1) : p.path]).sort() as Array<[string, string]>;
}

// ---------------------------------------------------------------- DFDC

test('dfdc: dfdc_train_part_N layout, ICPR2020 part split, original as group, broken entries reported', async () => {
  await withTmp(async (root) => {
    await put(
      root,
      'dfdc_train_part_0/metadata.json',
      JSON.stringify({
        'aaa.mp4': { label: 'REAL', split: 'train', original: null },
        'bbb.mp4': { label: 'FAKE', split: 'train', original: 'aaa.mp4' },
        'ccc.mp4': { label: 'FAKE', split: 'train', original: 'aaa.mp4' }, // listed, absent
        'ddd.mp4': { label: 'MAYBE', split: 'train', original: null }, // unknown label
        'zzz.mp4': { label: 'REAL', split: 'train', original: null }, // zero bytes
      }),
    );
    await put(root, 'dfdc_train_part_0/aaa.mp4');
    await put(root, 'dfdc_train_part_0/bbb.mp4');
    await put(root, 'dfdc_train_part_0/ddd.mp4');
    await put(root, 'dfdc_train_part_0/eee.mp4'); // on disk, not in metadata
    await put(root, 'dfdc_train_part_0/zzz.mp4', '');
    await put(root, 'dfdc_train_part_37/metadata.json', JSON.stringify({ 'fff.mp4': { label: 'real', original: null } }));
    await put(root, 'dfdc_train_part_37/fff.mp4');
    await put(root, 'dfdc_train_part_45/metadata.json', JSON.stringify({ 'ggg.mp4': { label: 'FAKE', original: 'fff.mp4' } }));
    await put(root, 'dfdc_train_part_45/ggg.mp4');
    await put(root, 'dfdc_train_part_12/metadata.json', '{"hhh.mp4": {"label": "REAL",'); // truncated JSON
    await put(root, 'dfdc_train_part_12/hhh.mp4');

    const report = await indexDataset('dfdc', root);
    assert.deepEqual(short(report, root), [
      ['dfdc_train_part_0/aaa.mp4', 'REAL', 'train', 'dfdc:aaa', '', ''],
      ['dfdc_train_part_0/bbb.mp4', 'FAKE', 'train', 'dfdc:aaa', '', ''],
      ['dfdc_train_part_37/fff.mp4', 'REAL', 'val', 'dfdc:fff', '', ''],
      ['dfdc_train_part_45/ggg.mp4', 'FAKE', 'test', 'dfdc:fff', '', ''],
    ]);
    assert.ok(report.rows.every((r) => r.dataset === 'dfdc' && r.path.startsWith('/')));
    assert.deepEqual(problemsOf(report, root), [
      ['empty_file', 'dfdc_train_part_0/zzz.mp4'],
      ['invalid_metadata', 'dfdc_train_part_12/metadata.json'],
      ['missing_file', 'dfdc_train_part_0/ccc.mp4'],
      ['no_label', 'dfdc_train_part_12/hhh.mp4'],
      ['unknown_label', 'dfdc_train_part_0/ddd.mp4'],
      ['unlisted_file', 'dfdc_train_part_0/eee.mp4'],
    ]);
    assert.deepEqual(report.notes, []);
  });
});

test("dfdc: Kaggle's flat train_sample_videos (one metadata.json, no part number) indexes, split test, with a note", async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'deepfake-detection-challenge');
    await put(
      root,
      'train_sample_videos/metadata.json',
      JSON.stringify({
        'aagfhgtpmv.mp4': { label: 'FAKE', split: 'train', original: 'vudstovrck.mp4' },
        'vudstovrck.mp4': { label: 'REAL', split: 'train', original: null },
      }),
    );
    await put(root, 'train_sample_videos/aagfhgtpmv.mp4');
    await put(root, 'train_sample_videos/vudstovrck.mp4');
    await put(root, 'test_videos/aassnaulhq.mp4'); // Kaggle's unlabelled public test set

    const report = await indexDataset('dfdc', root);
    assert.deepEqual(short(report, root), [
      ['train_sample_videos/aagfhgtpmv.mp4', 'FAKE', 'test', 'dfdc:vudstovrck', '', ''],
      ['train_sample_videos/vudstovrck.mp4', 'REAL', 'test', 'dfdc:vudstovrck', '', ''],
    ]);
    assert.deepEqual(problemsOf(report, root), [['no_label', 'test_videos/aassnaulhq.mp4']]);
    assert.equal(report.notes.length, 1);
    assert.match(report.notes[0], /without a part number .*train_sample_videos.*split 'test'/);

    // The flat folder itself as the root works too.
    const flat = await indexDataset('dfdc', join(root, 'train_sample_videos'));
    assert.equal(flat.rows.length, 2);
    assert.deepEqual(flat.problems, []);
  });
});

test('dfdc: no metadata.json, or only invalid ones, is a one-line error', async () => {
  await withTmp(async (root) => {
    await put(root, 'videos/a.mp4');
    await assert.rejects(indexDataset('dfdc', root), (e: unknown) => e instanceof DatasetIndexError && /no metadata\.json under/.test(e.message));
    await put(root, 'videos/metadata.json', '[1, 2]');
    await assert.rejects(
      indexDataset('dfdc', root),
      (e: unknown) => e instanceof DatasetIndexError && /no labelled media found .* invalid_metadata .*metadata\.json/.test(e.message) && !e.message.includes('\n'),
    );
  });
});

test('dfdc: ICPR2020 part boundaries 0-34 / 35-39 / 40-49', () => {
  assert.deepEqual([0, 34, 35, 39, 40, 49].map(dfdcSplitForPart), ['train', 'train', 'val', 'val', 'test', 'test']);
});

// ---------------------------------------------------------------- FF++

/** A miniature FF++ download: every method, several compressions, DFD, a masks folder, a stray name. */
async function makeFfpp(root: string): Promise<void> {
  for (const id of ['000', '003', '071', '054', '500']) await put(root, `original_sequences/youtube/c23/videos/${id}.mp4`);
  await put(root, 'original_sequences/youtube/c40/videos/000.mp4');
  await put(root, 'original_sequences/actors/c23/videos/01__talking_against_wall.mp4');
  await put(root, 'original_sequences/actors/c23/videos/02__meeting_serious.mp4');
  await put(root, 'manipulated_sequences/Deepfakes/c23/videos/000_003.mp4');
  await put(root, 'manipulated_sequences/Deepfakes/c23/videos/003_000.mp4');
  await put(root, 'manipulated_sequences/Deepfakes/c23/videos/000_071.mp4'); // pairs two split sides
  await put(root, 'manipulated_sequences/Deepfakes/c23/videos/weird.mp4'); // no FF++ name
  await put(root, 'manipulated_sequences/Deepfakes/masks/videos/000_003.mp4'); // masks: not media
  await put(root, 'manipulated_sequences/Face2Face/c40/videos/071_054.mp4');
  await put(root, 'manipulated_sequences/FaceSwap/raw/videos/000_003.mp4');
  await put(root, 'manipulated_sequences/NeuralTextures/c23/videos/054_071.mp4');
  await put(root, 'manipulated_sequences/FaceShifter/c23/videos/003_000.mp4', '');
  await put(root, 'manipulated_sequences/DeepFakeDetection/c23/videos/01_02__meeting_serious__YVGY8LOK.mp4');
}

const FFPP_PROBLEMS: Array<[string, string]> = [
  ['empty_file', 'manipulated_sequences/FaceShifter/c23/videos/003_000.mp4'],
  ['unrecognised_name', 'manipulated_sequences/Deepfakes/c23/videos/weird.mp4'],
];

test('ffpp: official split files, every method, compression column, identity groups (DFD too)', async () => {
  await withTmp(async (root) => {
    await makeFfpp(root);
    await put(root, 'splits/train.json', JSON.stringify([['000', '003']]));
    await put(root, 'splits/val.json', JSON.stringify([['071', '054']]));
    await put(root, 'splits/test.json', JSON.stringify([['999', '998']]));
    const report = await indexDataset('ffpp', root);
    const dfdSplit = splitForId('dfd:01'); // DFD has no official split: the default, one component
    assert.deepEqual(short(report, root), [
      ['manipulated_sequences/DeepFakeDetection/c23/videos/01_02__meeting_serious__YVGY8LOK.mp4', 'FAKE', dfdSplit, 'dfd:01+dfd:02', 'DeepFakeDetection', 'c23'],
      ['manipulated_sequences/Deepfakes/c23/videos/000_003.mp4', 'FAKE', 'train', 'ffpp:000+ffpp:003', 'Deepfakes', 'c23'],
      ['manipulated_sequences/Deepfakes/c23/videos/000_071.mp4', 'FAKE', 'excluded', 'ffpp:000+ffpp:071', 'Deepfakes', 'c23'],
      ['manipulated_sequences/Deepfakes/c23/videos/003_000.mp4', 'FAKE', 'train', 'ffpp:003+ffpp:000', 'Deepfakes', 'c23'],
      ['manipulated_sequences/Face2Face/c40/videos/071_054.mp4', 'FAKE', 'val', 'ffpp:071+ffpp:054', 'Face2Face', 'c40'],
      ['manipulated_sequences/FaceSwap/raw/videos/000_003.mp4', 'FAKE', 'train', 'ffpp:000+ffpp:003', 'FaceSwap', 'c0'],
      ['manipulated_sequences/NeuralTextures/c23/videos/054_071.mp4', 'FAKE', 'val', 'ffpp:054+ffpp:071', 'NeuralTextures', 'c23'],
      ['original_sequences/actors/c23/videos/01__talking_against_wall.mp4', 'REAL', dfdSplit, 'dfd:01', '', 'c23'],
      ['original_sequences/actors/c23/videos/02__meeting_serious.mp4', 'REAL', dfdSplit, 'dfd:02', '', 'c23'],
      ['original_sequences/youtube/c23/videos/000.mp4', 'REAL', 'train', 'ffpp:000', '', 'c23'],
      ['original_sequences/youtube/c23/videos/003.mp4', 'REAL', 'train', 'ffpp:003', '', 'c23'],
      ['original_sequences/youtube/c23/videos/054.mp4', 'REAL', 'val', 'ffpp:054', '', 'c23'],
      ['original_sequences/youtube/c23/videos/071.mp4', 'REAL', 'val', 'ffpp:071', '', 'c23'],
      ['original_sequences/youtube/c23/videos/500.mp4', 'REAL', 'excluded', 'ffpp:500', '', 'c23'], // not in the split files
      ['original_sequences/youtube/c40/videos/000.mp4', 'REAL', 'train', 'ffpp:000', '', 'c40'],
    ]);
    const datasets = Object.fromEntries(report.rows.map((r) => [r.path.slice(root.length + 1), r.dataset]));
    assert.equal(datasets['original_sequences/actors/c23/videos/02__meeting_serious.mp4'], 'dfd');
    assert.equal(datasets['original_sequences/youtube/c23/videos/000.mp4'], 'ffpp');
    assert.deepEqual(problemsOf(report, root), FFPP_PROBLEMS);
    assert.ok(report.notes.some((n) => /official split files/.test(n) && /2 rows excluded/.test(n)), report.notes.join('\n'));

    // --split-from: a split folder elsewhere overrides <root>/splits.
    const other = join(root, 'my_splits');
    await put(other, 'train.json', JSON.stringify([['071', '054']]));
    await put(other, 'val.json', '[]');
    await put(other, 'test.json', JSON.stringify([['000', '003']]));
    const viaFlag = await indexDataset('ffpp', root, { splitFrom: other });
    const splitOf = (rel: string) => viaFlag.rows.find((r) => r.path === join(root, rel))?.split;
    assert.equal(splitOf('original_sequences/youtube/c23/videos/071.mp4'), 'train');
    assert.equal(splitOf('manipulated_sequences/Deepfakes/c23/videos/000_003.mp4'), 'test');
  });
});

test('ffpp: without split files every identity component gets one split by the documented default', async () => {
  await withTmp(async (root) => {
    await makeFfpp(root);
    const report = await indexDataset('ffpp', root);
    assert.equal(report.rows.length, 15);
    assert.deepEqual(problemsOf(report, root), FFPP_PROBLEMS);
    const keys = componentKeys(report.rows.map((r) => r.group));
    report.rows.forEach((r, i) => {
      assert.notEqual(r.split, 'excluded');
      assert.equal(r.split, splitForId(keys[i]), r.path);
    });
    // 000, 003, 071 and 054 are linked (000_003, 000_071, 071_054): one component, one split.
    const ffppSplits = new Set(report.rows.filter((r) => r.dataset === 'ffpp' && !r.group.includes('500')).map((r) => r.split));
    assert.equal(ffppSplits.size, 1);
    assert.ok(report.notes.some((n) => /no FF\+\+ split files .* default split by identity component hash \(72\/14\/14/.test(n)), report.notes.join('\n'));
  });
});

test('ffpp: broken split files and a non-FF++ folder are one-line errors', async () => {
  await withTmp(async (root) => {
    await makeFfpp(root);
    await put(root, 'splits/train.json', '[["000", "003"]');
    await assert.rejects(indexDataset('ffpp', root), /FF\+\+ split file .*train\.json is not valid JSON/);
    await put(root, 'splits/train.json', '[["000", "003"]]');
    await assert.rejects(indexDataset('ffpp', root), /FF\+\+ split file missing: .*val\.json/);
    await put(root, 'splits/val.json', '[["071", "054"]]');
    await put(root, 'splits/test.json', '{"a": 1}');
    await assert.rejects(indexDataset('ffpp', root), /is not a list of \[target, source\] id pairs/);
    await put(root, 'splits/test.json', '[]');
    assert.equal((await indexDataset('ffpp', root)).rows.length, 15);
    await put(root, 'splits/val.json', '[["000", "005"]]');
    await assert.rejects(indexDataset('ffpp', root), /put id 000 in both train and val/);
    await assert.rejects(indexDataset('ffpp', join(root, 'original_sequences')), /not a FaceForensics\+\+ folder/);
  });
});

// ---------------------------------------------------------------- Celeb-DF

test('celebdf: testing list (1 = real, 0 = fake) is test, the rest train; celebrity ids as groups', async () => {
  await withTmp(async (root) => {
    await put(root, 'Celeb-real/id0_0000.mp4');
    await put(root, 'Celeb-real/id0_0001.mp4');
    await put(root, 'Celeb-real/id16_0000.mp4');
    await put(root, 'Celeb-real/notes.mp4'); // no Celeb-DF name
    await put(root, 'Celeb-synthesis/id0_id16_0000.mp4');
    await put(root, 'Celeb-synthesis/id16_id0_0000.mp4');
    await put(root, 'YouTube-real/00000.mp4');
    await put(root, 'YouTube-real/00001.mp4');
    await put(
      root,
      'List_of_testing_videos.txt',
      [
        '1 Celeb-real/id0_0001.mp4',
        '0 Celeb-synthesis/id0_id16_0000.mp4',
        '1 YouTube-real/00001.mp4',
        '0 Celeb-real/id16_0000.mp4', // contradicts its folder
        '1 YouTube-real/00099.mp4', // not on disk
        '7 Celeb-synthesis/id16_id0_0000.mp4', // unknown label
        'garbage',
        '',
      ].join('\r\n'),
    );
    const report = await indexDataset('celebdf', root);
    assert.deepEqual(short(report, root), [
      ['Celeb-real/id0_0000.mp4', 'REAL', 'train', 'celebdf:id0', '', ''],
      ['Celeb-real/id0_0001.mp4', 'REAL', 'test', 'celebdf:id0', '', ''],
      ['Celeb-real/id16_0000.mp4', 'REAL', 'test', 'celebdf:id16', '', ''],
      ['Celeb-synthesis/id0_id16_0000.mp4', 'FAKE', 'test', 'celebdf:id0+celebdf:id16', '', ''],
      ['Celeb-synthesis/id16_id0_0000.mp4', 'FAKE', 'test', 'celebdf:id16+celebdf:id0', '', ''],
      ['YouTube-real/00000.mp4', 'REAL', 'train', 'celebdf_yt:00000', '', ''],
      ['YouTube-real/00001.mp4', 'REAL', 'test', 'celebdf_yt:00001', '', ''],
    ]);
    assert.ok(report.rows.every((r) => r.dataset === 'celebdf'));
    assert.deepEqual(problemsOf(report, root), [
      ['invalid_metadata', 'List_of_testing_videos.txt:7'],
      ['label_conflict', 'Celeb-real/id16_0000.mp4'],
      ['missing_file', 'YouTube-real/00099.mp4'],
      ['unknown_label', 'Celeb-synthesis/id16_id0_0000.mp4'],
      ['unrecognised_name', 'Celeb-real/notes.mp4'],
    ]);
  });
});

test('celebdf: without the testing list every row is test (noted); a named list that is absent is an error', async () => {
  await withTmp(async (root) => {
    await put(root, 'celeb-real/id3_0002.mp4'); // folder names match in any case
    await put(root, 'Celeb-synthesis/videos/id3_id5_0002.mp4'); // one level deeper also found
    const report = await indexDataset('celebdf', root);
    assert.deepEqual(short(report, root), [
      ['Celeb-synthesis/videos/id3_id5_0002.mp4', 'FAKE', 'test', 'celebdf:id3+celebdf:id5', '', ''],
      ['celeb-real/id3_0002.mp4', 'REAL', 'test', 'celebdf:id3', '', ''],
    ]);
    assert.match(report.notes[0], /no List_of_testing_videos\.txt .* every row is split 'test'/);
    await assert.rejects(indexDataset('celebdf', root, { splitFrom: join(root, 'nope.txt') }), /cannot read Celeb-DF testing list/);
    await assert.rejects(indexDataset('celebdf', join(root, 'celeb-real')), /not a Celeb-DF folder/);
  });
});

// ---------------------------------------------------------------- folder

test('folder: real/fake (and synonyms) in folder names, any case; split folders; unlabelled and empty files reported', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'myset');
    await put(root, 'Real/a.mp4');
    await put(root, 'FAKE/b.mp4');
    await put(root, 'FAKE/empty.mp4', '');
    await put(root, 'train/Deepfake_Videos/c.mp4');
    await put(root, 'Val/Original/d.jpg');
    await put(root, 'test/pristine/e.PNG');
    await put(root, 'misc/f.mp4'); // no label anywhere
    await put(root, 'real/fake/g.mp4'); // both: not guessed
    await put(root, 'real/notes.txt'); // not media: ignored
    await put(root, 'unreal/h.mp4'); // "unreal" is not the word "real"
    const report = await indexDataset('folder', root);
    assert.deepEqual(short(report, root), [
      ['FAKE/b.mp4', 'FAKE', 'test', 'myset:FAKE/b', '', ''],
      ['Real/a.mp4', 'REAL', 'test', 'myset:Real/a', '', ''],
      ['Val/Original/d.jpg', 'REAL', 'val', 'myset:Val/Original/d', '', ''],
      ['test/pristine/e.PNG', 'REAL', 'test', 'myset:test/pristine/e', '', ''],
      ['train/Deepfake_Videos/c.mp4', 'FAKE', 'train', 'myset:train/Deepfake_Videos/c', '', ''],
    ]);
    assert.ok(report.rows.every((r) => r.dataset === 'myset'));
    assert.deepEqual(problemsOf(report, root), [
      ['empty_file', 'FAKE/empty.mp4'],
      ['no_label', 'misc/f.mp4'],
      ['no_label', 'real/fake/g.mp4'],
      ['no_label', 'unreal/h.mp4'],
    ]);
    assert.match(report.problems.find((p) => p.path.endsWith('g.mp4'))!.detail, /both real \(real\) and fake \(fake\)/);
  });
});

test('folder: CSV of file,label with paths relative to the CSV, 0/1 and any-case labels, duplicates and bad rows reported', async () => {
  await withTmp(async (dir) => {
    const base = join(dir, 'lists');
    await put(dir, 'lists/clips/a.mp4');
    await put(dir, 'lists/clips/b.mp4');
    await put(dir, 'outside/c.mp4');
    await put(dir, 'lists/clips/d.mp4');
    await put(
      dir,
      'lists/labels.csv',
      [
        'file,label,split',
        'clips/a.mp4,REAL,train',
        'clips/b.mp4,1,',
        '../outside/c.mp4,fake,val',
        'clips/missing.mp4,0,',
        'clips/a.mp4,real,',
        'clips/d.mp4,maybe,',
        'clips/d.mp4,FAKE,later',
      ].join('\n') + '\n',
    );
    const report = await indexDataset('folder', join(base, 'labels.csv'));
    assert.deepEqual(short(report, dir), [
      ['lists/clips/a.mp4', 'REAL', 'train', 'lists:clips/a', '', ''],
      ['lists/clips/b.mp4', 'FAKE', 'test', 'lists:clips/b', '', ''],
      ['outside/c.mp4', 'FAKE', 'val', 'lists:../outside/c', '', ''],
    ]);
    assert.deepEqual(problemsOf(report, dir), [
      ['duplicate_entry', 'lists/clips/a.mp4'],
      ['invalid_metadata', 'lists/clips/d.mp4'],
      ['missing_file', 'lists/clips/missing.mp4'],
      ['unknown_label', 'lists/clips/d.mp4'],
    ]);
    await put(dir, 'lists/bad.csv', 'name,verdict\na.mp4,REAL\n');
    await assert.rejects(indexDataset('folder', join(base, 'bad.csv')), /needs a header with 'file'/);
  });
});

test('folder: a tree with no labelled files is a clear one-line error', async () => {
  await withTmp(async (root) => {
    await put(root, 'clips/a.mp4');
    await put(root, 'clips/b.mp4');
    await assert.rejects(indexDataset('folder', root), (e: unknown) => {
      assert.ok(e instanceof DatasetIndexError);
      assert.match(e.message, /^no labelled media found under .* for kind 'folder'; 2 problem\(s\), first: no_label .*a\.mp4/);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
    await rm(join(root, 'clips'), { recursive: true });
    await assert.rejects(indexDataset('folder', root), /^DatasetIndexError: no labelled media found under .*'folder'$/);
  });
});

// ---------------------------------------------------------------- registry, default split, CSV format

test('indexDataset: missing root, file root, stray --split-from are typed errors', async () => {
  await withTmp(async (root) => {
    await assert.rejects(indexDataset('ffpp', join(root, 'nope')), InputNotFoundError);
    const f = await put(root, 'a.txt');
    await assert.rejects(indexDataset('dfdc', f), /is not a folder$/);
    await assert.rejects(indexDataset('folder', f), /is not a folder or a \.csv file$/);
    await assert.rejects(indexDataset('dfdc', root, { splitFrom: f }), InvalidOptionError);
  });
});

test('default split: leak-free, order-independent, about 72/14/14', () => {
  const groups = ['ffpp:1+ffpp:2', 'ffpp:2', 'ffpp:3', 'ffpp:2+ffpp:3', 'ffpp:9'];
  assert.deepEqual(componentKeys(groups), ['ffpp:1', 'ffpp:1', 'ffpp:1', 'ffpp:1', 'ffpp:9']);
  const s = splitByGroupHash(groups);
  assert.equal(new Set(s.slice(0, 4)).size, 1);
  assert.deepEqual(splitByGroupHash([...groups].reverse()), [...s].reverse());
  const ids = Array.from({ length: 1000 }, (_, i) => `ffpp:${String(i).padStart(3, '0')}`);
  const n = (split: string) => ids.filter((id) => splitForId(id) === split).length;
  // Binomial sd for 1000 draws at 14% is ~11: these bounds fail only for a broken hash.
  assert.ok(n('train') > 670 && n('train') < 770, `train ${n('train')}`);
  assert.ok(n('val') > 100 && n('val') < 180, `val ${n('val')}`);
  assert.ok(n('test') > 100 && n('test') < 180, `test ${n('test')}`);
});

test('readIndexCsv reads index files written before the compression column', async () => {
  await withTmp(async (dir) => {
    const p = await put(dir, 'old.csv', 'path,label,dataset,split,group,method\n/x/a.mp4,FAKE,ffpp_c40,test,ffpp:1+ffpp:2,Deepfakes\n');
    const rows: IndexRow[] = await readIndexCsv(p);
    assert.deepEqual(rows, [
      { path: '/x/a.mp4', label: 'FAKE', dataset: 'ffpp_c40', split: 'test', group: 'ffpp:1+ffpp:2', method: 'Deepfakes', compression: '' },
    ]);
  });
});

test('formatIndexSummary: counts per split/dataset/label, problems per kind with the first paths', () => {
  const row = (path: string, split: IndexRow['split']): IndexRow => ({ path, label: 'FAKE', dataset: 'd', split, group: 'g', method: '', compression: '' });
  const problems: IndexProblem[] = Array.from({ length: 7 }, (_, i) => ({ kind: 'missing_file', path: `/m/${i}.mp4`, detail: 'gone' }));
  const text = formatIndexSummary({ rows: [row('/a', 'train'), row('/b', 'train'), row('/c', 'val')], problems, notes: ['n1'] }, 3);
  assert.equal(
    text,
    [
      'indexed 3 files',
      '  split\tdataset\tlabel\tfiles',
      '  train\td\tFAKE\t2',
      '  val\td\tFAKE\t1',
      'problems: 7 files not indexed or doubtful',
      '  missing_file: 7',
      '    /m/0.mp4 (gone)',
      '    /m/1.mp4 (gone)',
      '    /m/2.mp4 (gone)',
      '    ... and 4 more',
      'note: n1',
      '',
    ].join('\n'),
  );
});

// ---------------------------------------------------------------- CLI

async function runCli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

test('CLI: unmask index writes the CSV (exit 0 clean, 1 with problems, summary on stdout)', async () => {
  await withTmp(async (dir) => {
    const root = join(dir, 'celeb');
    await put(root, 'Celeb-real/id0_0000.mp4');
    await put(root, 'Celeb-synthesis/id0_id1_0000.mp4');
    await put(root, 'List_of_testing_videos.txt', '0 Celeb-synthesis/id0_id1_0000.mp4\n');
    const out = join(dir, 'out', 'index.csv');
    const ok = await runCli(['index', 'celebdf', root, '--out', out], dir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /indexed 2 files/);
    assert.match(ok.stdout, /problems: none/);
    assert.match(ok.stdout, new RegExp(`wrote 2 rows to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const text = await readFile(out, 'utf8');
    assert.equal(text.split('\n')[0], 'path,label,dataset,split,group,method,compression');
    assert.deepEqual(await readIndexCsv(out), [
      { path: join(root, 'Celeb-real/id0_0000.mp4'), label: 'REAL', dataset: 'celebdf', split: 'train', group: 'celebdf:id0', method: '', compression: '' },
      { path: join(root, 'Celeb-synthesis/id0_id1_0000.mp4'), label: 'FAKE', dataset: 'celebdf', split: 'test', group: 'celebdf:id0+celebdf:id1', method: '', compression: '' },
    ]);

    // Relative root and CSV input, run from another folder; one missing file -> exit 1, still written.
    await put(dir, 'set/v/a.mp4');
    await put(dir, 'set/labels.csv', 'file,label\nv/a.mp4,FAKE\nv/gone.mp4,REAL\n');
    const out2 = join(dir, 'index2.csv');
    const partial = await runCli(['index', 'folder', 'set/labels.csv', '-o', out2], dir);
    assert.equal(partial.code, 1, partial.stderr);
    assert.match(partial.stdout, /missing_file: 1\n\s+.*set\/v\/gone\.mp4/);
    assert.deepEqual((await readIndexCsv(out2)).map((r) => [r.path, r.label, r.dataset]), [[join(dir, 'set/v/a.mp4'), 'FAKE', 'set']]);
  });
});

test('CLI: bad input gives one unmask: line and exit 2, nothing written', async () => {
  await withTmp(async (dir) => {
    const out = join(dir, 'index.csv');
    const missing = await runCli(['index', 'dfdc', join(dir, 'no_such_root'), '--out', out], dir);
    assert.equal(missing.code, 2, missing.stderr);
    assert.equal(missing.stderr, `unmask: no such file or directory: ${join(dir, 'no_such_root')}\n`);
    const kind = await runCli(['index', 'kinetics', dir, '--out', out], dir);
    assert.equal(kind.code, 2, kind.stderr);
    assert.match(kind.stderr, /^unmask: kind must be one of dfdc, ffpp, celebdf, folder, dev; got 'kinetics'\n$/);
    const noOut = await runCli(['index', 'folder', dir], dir);
    assert.equal(noOut.code, 2, noOut.stderr);
    assert.equal(noOut.stderr, 'unmask: --out is required (the index CSV to write)\n');
    const stray = await runCli(['index', 'dfdc', dir, '--out', out, '--split-from', join(dir, 'x.json')], dir);
    assert.equal(stray.code, 2, stray.stderr);
    assert.match(stray.stderr, /^unmask: kind 'dfdc' takes no split file/);
    const empty = await runCli(['index', 'folder', dir, '--out', out], dir);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /^unmask: no labelled media found under .*\n$/);
    await assert.rejects(readFile(out), /ENOENT/);
  });
});
