import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, rm, access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDevSetIndex } from '../src/datasets/dev_set.js';
import { readIndexCsv, writeIndexCsv, DatasetIndexError, type IndexRow } from '../src/datasets/index_row.js';
import { tempDir } from './helpers/temp_dir.js';

const TOP_HEADER = 'file,media,label,dataset,original_if_known,width,height,frames,fps,duration_s,bytes,sha256';

async function put(root: string, rel: string, text: string): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), text);
}

/** A miniature of ../shared/data: same manifest columns and naming rules, a few rows each, no media. */
async function makeTree(): Promise<string> {
  const root = tempDir('devset');
  await put(
    root,
    'manifest.csv',
    [
      TOP_HEADER,
      'ffpp_c40/Deepfakes__033_097.mp4,video,FAKE,FF++ c40 Deepfakes,033.mp4,,,,,,1,x',
      'ffpp_c40/original_youtube__033.mp4,video,REAL,FF++ c40 original youtube,,,,,,,1,x',
      'ffpp_c40/original_actors__08__kitchen_pan.mp4,video,REAL,FF++/DFD c40 original actors,,,,,,,1,x',
      'ffpp_face_crops/Face2Face/roi_0.jpg,image,FAKE,FF++ face crops 299x299 (source video id not recorded),,,,,,,1,x',
      'ffpp_face_crops/youtube/roi_0.jpg,image,REAL,FF++ face crops 299x299 (source video id not recorded),,,,,,,1,x',
      'dfdc_face_tracks/fake/0_aaqaifqrwn.mp4_0_0.mp4,video,FAKE,"DFDC train part 0, face-track crop clip (<=64 frames)",xugmhbetrw.mp4,,,,,,1,x',
      'dfdc_face_tracks/fake/0_abhggqdift.mp4_0_0.mp4,video,FAKE,"DFDC train part 0, face-track crop clip (<=64 frames)",,,,,,,1,x',
      'dfdc_face_crops/real/abarnvbtwb-000-00.png,image,REAL,DFDC train_sample_videos face crops,,,,,,,1,x',
      'dfdc_face_crops/fake/aagfhgtpmv-009-00.png,image,FAKE,DFDC train_sample_videos face crops,vudstovrck.mp4,,,,,,1,x',
    ].join('\n') + '\n',
  );
  await put(
    root,
    'ffpp_c23_faces/manifest.csv',
    [
      'file,label,identity_or_video_id,method,target_id,source_id',
      'fake/ffpp_Deepfakes_033_097_f0090.jpg,fake,ffpp:033_097,Deepfakes,033,097',
      'real/ffpp_youtube_033_f0048.jpg,real,ffpp:033,youtube,033,033',
    ].join('\n') + '\n',
  );
  await put(
    root,
    'dfdc_faces/manifest.csv',
    [
      'file,label,identity_or_video_id,video,original',
      'real/dultiznosk.jpg,real,dfdc:dultiznosk,dultiznosk.mp4,',
      'fake/fzuxokfzaj.jpg,fake,dfdc:dultiznosk,fzuxokfzaj.mp4,dultiznosk.mp4',
    ].join('\n') + '\n',
  );
  await put(
    root,
    'faces_real/utkface/manifest.csv',
    'file,label,identity_or_video_id\nreal/50_0_0_1.jpg.chip.jpg,real,utk:50_0_0_1\n',
  );
  await put(
    root,
    'faces_real/celeba/manifest.csv',
    'file,label,identity_or_video_id,crop_xys_in_source\nreal/celeba_119223_id7413.jpg,real,celeba:7413,"272,0,526"\n',
  );
  return root;
}

function byPathEnd(rows: IndexRow[], end: string): IndexRow {
  const r = rows.find((x) => x.path.endsWith(end));
  assert.ok(r, `no row for ${end}`);
  return r;
}

test('buildDevSetIndex maps every manifest to labelled, grouped, split rows', async () => {
  const root = await makeTree();
  try {
    const rows = await buildDevSetIndex(root);
    assert.equal(rows.length, 15);
    for (const r of rows) assert.equal(r.path, resolve(r.path), 'path is absolute');

    assert.deepEqual(byPathEnd(rows, 'ffpp_c40/Deepfakes__033_097.mp4'), {
      path: join(root, 'ffpp_c40/Deepfakes__033_097.mp4'),
      label: 'FAKE',
      dataset: 'ffpp_c40',
      split: 'test',
      group: 'ffpp:033+ffpp:097',
      method: 'Deepfakes',
      compression: 'c40',
    });
    const yt = byPathEnd(rows, 'original_youtube__033.mp4');
    assert.deepEqual([yt.label, yt.group, yt.method], ['REAL', 'ffpp:033', '']);
    assert.equal(byPathEnd(rows, 'original_actors__08__kitchen_pan.mp4').group, 'dfd:08');

    const f2f = byPathEnd(rows, 'Face2Face/roi_0.jpg');
    assert.deepEqual([f2f.label, f2f.group, f2f.method], ['FAKE', 'ffpp_crops:Face2Face/roi_0', 'Face2Face']);
    // Same stem in another folder is a different, unrelated image.
    assert.equal(byPathEnd(rows, 'youtube/roi_0.jpg').group, 'ffpp_crops:youtube/roi_0');

    // DFDC: the original's id when known, else the clip's own video id.
    assert.equal(byPathEnd(rows, '0_aaqaifqrwn.mp4_0_0.mp4').group, 'dfdc:xugmhbetrw');
    assert.equal(byPathEnd(rows, '0_abhggqdift.mp4_0_0.mp4').group, 'dfdc:abhggqdift');
    assert.equal(byPathEnd(rows, 'abarnvbtwb-000-00.png').group, 'dfdc:abarnvbtwb');
    assert.equal(byPathEnd(rows, 'aagfhgtpmv-009-00.png').group, 'dfdc:vudstovrck');

    const c23fake = byPathEnd(rows, 'ffpp_Deepfakes_033_097_f0090.jpg');
    assert.equal(c23fake.path, join(root, 'ffpp_c23_faces/fake/ffpp_Deepfakes_033_097_f0090.jpg'));
    assert.deepEqual([c23fake.label, c23fake.group, c23fake.method], ['FAKE', 'ffpp:033+ffpp:097', 'Deepfakes']);
    // ids 033/097 are in the ffpp_c40 test set, so their c23 crops must not train
    assert.equal(c23fake.split, 'excluded');
    const c23real = byPathEnd(rows, 'ffpp_youtube_033_f0048.jpg');
    assert.deepEqual([c23real.label, c23real.group, c23real.method], ['REAL', 'ffpp:033', '']);

    assert.equal(byPathEnd(rows, 'dfdc_faces/fake/fzuxokfzaj.jpg').group, 'dfdc:dultiznosk');
    assert.equal(byPathEnd(rows, 'dfdc_faces/real/dultiznosk.jpg').group, 'dfdc:dultiznosk');

    const utk = byPathEnd(rows, '50_0_0_1.jpg.chip.jpg');
    assert.deepEqual([utk.dataset, utk.label, utk.split, utk.group], ['utkface', 'REAL', 'train', 'utk:50_0_0_1']);
    assert.equal(byPathEnd(rows, 'celeba_119223_id7413.jpg').group, 'celeba:7413');

    for (const r of rows) {
      const expected = r.dataset.startsWith('dfdc_') ? 'val' : r.dataset === 'ffpp_c40' ? 'test' : r.split === 'excluded' ? 'excluded' : 'train';
      assert.equal(r.split, expected, r.path);
    }
    assert.deepEqual(componentsSpanningSplits(rows.filter((r) => r.split !== 'excluded')), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('buildDevSetIndex works with only the top-level manifest', async () => {
  const root = tempDir('devset');
  try {
    await put(root, 'manifest.csv', `${TOP_HEADER}\nffpp_c40/FaceSwap__1_2.mp4,video,FAKE,x,1.mp4,,,,,,1,x\n`);
    const rows = await buildDevSetIndex(root);
    assert.deepEqual(
      rows.map((r) => [r.group, r.method]),
      [['ffpp:1+ffpp:2', 'FaceSwap']],
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('buildDevSetIndex rejects contradictions and unknown folders', async () => {
  const root = tempDir('devset');
  try {
    await put(root, 'manifest.csv', `${TOP_HEADER}\nffpp_c40/original_youtube__033.mp4,video,FAKE,x,,,,,,,1,x\n`);
    await assert.rejects(buildDevSetIndex(root), (e: unknown) => e instanceof DatasetIndexError && /file name says REAL/.test(e.message));
    await put(root, 'manifest.csv', `${TOP_HEADER}\nnew_set/a.png,image,REAL,x,,,,,,,1,x\n`);
    await assert.rejects(buildDevSetIndex(root), /no indexing rule for folder 'new_set'/);
    await assert.rejects(buildDevSetIndex(join(root, 'nowhere')), /cannot read manifest/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('writeIndexCsv / readIndexCsv round-trip, including commas and quotes', async () => {
  const dir = tempDir('devset');
  try {
    const rows: IndexRow[] = [
      { path: '/data/a, "odd".png', label: 'FAKE', dataset: 'ffpp_c40', split: 'train', group: 'ffpp:1+ffpp:2', method: 'Deepfakes', compression: 'c40' },
      { path: '/data/b.png', label: 'REAL', dataset: 'dfdc_faces', split: 'val', group: 'dfdc:x', method: '', compression: '' },
    ];
    const out = join(dir, 'sub', 'index.csv');
    await writeIndexCsv(rows, out);
    assert.deepEqual(await readIndexCsv(out), rows);

    await writeFile(out, 'path,label,dataset,split,group,method\n/x.png,MAYBE,d,train,g,\n');
    await assert.rejects(readIndexCsv(out), (e: unknown) => e instanceof DatasetIndexError && /:2: label/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Connected components of the `+`-joined ids; used to check that no identity spans both splits. */
function componentsSpanningSplits(rows: IndexRow[]): string[] {
  const parent = new Map<string, string>();
  const find = (a: string): string => {
    let r = a;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(a, r);
    return r;
  };
  for (const r of rows) {
    const ids = r.group.split('+');
    for (const id of ids) if (!parent.has(id)) parent.set(id, id);
    for (const id of ids.slice(1)) parent.set(find(id), find(ids[0]));
  }
  const splits = new Map<string, Set<string>>();
  for (const r of rows) {
    const c = find(r.group.split('+')[0]);
    if (!splits.has(c)) splits.set(c, new Set());
    splits.get(c)!.add(r.split);
  }
  return [...splits.entries()].filter(([, s]) => s.size > 1).map(([c]) => c);
}

const REAL_DATA = process.env.UNMASK_DATA ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data');

test('real ../shared/data indexes completely, with files present and no identity leak', async (t) => {
  try {
    await access(join(REAL_DATA, 'manifest.csv'));
  } catch {
    t.skip('../shared/data absent');
    return;
  }
  const rows = await buildDevSetIndex(REAL_DATA);
  const count = (dataset: string, label: string) => rows.filter((r) => r.dataset === dataset && r.label === label).length;
  // Counts from the data README's table.
  const expected: Array<[string, number, number]> = [
    ['ffpp_c40', 20, 40],
    ['ffpp_face_crops', 201, 423],
    ['dfdc_face_tracks', 1, 19],
    ['dfdc_face_crops', 11, 11],
    ['dfdc_faces', 1745, 1745],
    ['ffpp_c23_faces', 752, 757],
    ['utkface', 4000, 0],
    ['celeba', 1427, 0],
  ];
  for (const [d, real, fake] of expected) assert.deepEqual([d, count(d, 'REAL'), count(d, 'FAKE')], [d, real, fake]);
  assert.equal(new Set(rows.map((r) => r.path)).size, rows.length, 'paths are unique');
  await Promise.all(rows.map((r) => access(r.path)));
  // rows that share a person with evaluation data are excluded from training, never leaked into it
  assert.deepEqual(componentsSpanningSplits(rows.filter((r) => r.split !== 'excluded')), []);
  assert.ok(rows.some((r) => r.split === 'excluded'), 'FF++ c23 crops of the c40 test identities are excluded');
  const methods = new Set(rows.filter((r) => r.label === 'FAKE' && r.dataset.startsWith('ffpp')).map((r) => r.method));
  assert.deepEqual([...methods].sort(), ['Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures']);
});
