import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  VIDEO_EXTENSIONS,
  collectInputs,
  collectInputsWithNote,
  inputsFromRows,
  isMediaPath,
  keyFromRelative,
  type SkippedFile,
  skippedFilesNote,
} from '../src/pipeline/inputs.js';
import { tempDir } from './helpers/temp_dir.js';

describe('keyFromRelative', () => {
  it('joins path segments with __', () => {
    assert.equal(keyFromRelative('a/b/c.mp4'), 'a__b__c.mp4');
    assert.equal(keyFromRelative('c.mp4'), 'c.mp4');
    assert.equal(keyFromRelative(join('x', 'y', 'z.png')), 'x__y__z.png');
  });

  it('drops empty, . and .. segments', () => {
    assert.equal(keyFromRelative('../x/./y.mp4'), 'x__y.mp4');
    assert.equal(keyFromRelative('/abs//dir/f.mov'), 'abs__dir__f.mov');
    assert.equal(keyFromRelative(''), '');
  });

  it('replaces characters unsafe in file names with _', () => {
    assert.equal(keyFromRelative('my video (1).mp4'), 'my_video__1_.mp4');
    assert.equal(keyFromRelative('café/a:b*c?.mp4'), 'caf___a_b_c_.mp4');
    // allowed: letters, digits, . _ + -
    assert.equal(keyFromRelative('A-z_0.9+x.mp4'), 'A-z_0.9+x.mp4');
  });
});

describe('isMediaPath', () => {
  it('knows video and image extensions, case-insensitively', () => {
    for (const p of ['a.mp4', 'a.MOV', 'b/c.mkv', 'x.webm', 'y.jpg', 'y.JPEG', 'z.png', 'w.webp']) assert.ok(isMediaPath(p), p);
    for (const p of ['a.txt', 'noext', 'a.mp4.bak', '.mp4x']) assert.ok(!isMediaPath(p), p);
    assert.ok(VIDEO_EXTENSIONS.has('.mp4'));
  });
});

describe('collectInputs', () => {
  let root: string;
  let clips: string;

  before(async () => {
    root = tempDir('inputs');
    clips = join(root, 'clips');
    await mkdir(join(clips, 'sub', 'deeper'), { recursive: true });
    await mkdir(join(root, 'other'), { recursive: true });
    await mkdir(join(clips, 'empty'), { recursive: true });
    const files = [
      join(clips, 'a.mp4'),
      join(clips, 'notes.txt'),
      join(clips, 'sub', 'b.MOV'),
      join(clips, 'sub', 'readme'),
      join(clips, 'sub', 'deeper', 'c.png'),
      join(clips, 'sub', 'deeper', 'my clip.webm'),
      join(root, 'other', 'a.mp4'),
      join(root, 'other', 'x.txt'),
    ];
    for (const f of files) await writeFile(f, 'x');
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('walks a directory recursively: media files only, keys prefixed by the directory name, sorted', async () => {
    const out = await collectInputs([clips]);
    assert.deepEqual(
      out.map((i) => i.key),
      ['clips__a.mp4', 'clips__sub__b.MOV', 'clips__sub__deeper__c.png', 'clips__sub__deeper__my_clip.webm'],
    );
    assert.deepEqual(
      out.map((i) => i.path),
      [join(clips, 'a.mp4'), join(clips, 'sub', 'b.MOV'), join(clips, 'sub', 'deeper', 'c.png'), join(clips, 'sub', 'deeper', 'my clip.webm')],
    );
    for (const i of out) assert.equal(i.meta, undefined);
  });

  it('tells the caller which files a walk left out for their extension', async () => {
    const skipped: SkippedFile[] = [];
    await collectInputs([clips], (f) => skipped.push(f));
    assert.deepEqual(skipped, [
      { path: join(clips, 'notes.txt'), reason: 'extension' },
      { path: join(clips, 'sub', 'readme'), reason: 'extension' },
    ]);
    assert.equal(
      skippedFilesNote(skipped),
      'skipped 2 files without a video or picture extension: notes.txt, readme; name a file to read it anyway',
    );
    const five = ['a', 'b', 'c', 'd', 'e'].map((path) => ({ path, reason: 'extension' as const }));
    assert.match(skippedFilesNote(five)!, /: a, b, c, \.\.\. \(2 more\);/);
    assert.equal(skippedFilesNote([]), undefined);
    const { inputs, skippedNote } = await collectInputsWithNote([clips]);
    assert.equal(inputs.length, 4);
    assert.equal(skippedNote, skippedFilesNote(skipped));
  });

  it('follows links to files and directories, walks a looping link once, and names broken links and pipes it leaves out', async () => {
    const linked = join(root, 'linked');
    await mkdir(join(linked, 'deep'), { recursive: true });
    await symlink(join(clips, 'a.mp4'), join(linked, 'to_a.mp4')); // a data set of links
    await symlink(join(clips, 'sub', 'deeper'), join(linked, 'to_deeper')); // a linked folder
    await symlink('..', join(linked, 'deep', 'up')); // back up the tree: a loop
    await symlink(join(root, 'nowhere.mp4'), join(linked, 'gone.mp4'));
    execFileSync('mkfifo', [join(linked, 'pipe.mp4')]);
    const skipped: SkippedFile[] = [];
    const out = await collectInputs([linked], (f) => skipped.push(f));
    assert.deepEqual(
      out.map((i) => [i.key, i.path]),
      [
        ['linked__to_a.mp4', join(linked, 'to_a.mp4')],
        ['linked__to_deeper__c.png', join(linked, 'to_deeper', 'c.png')],
        ['linked__to_deeper__my_clip.webm', join(linked, 'to_deeper', 'my clip.webm')],
      ],
    );
    assert.deepEqual(skipped, [
      { path: join(linked, 'gone.mp4'), reason: 'broken-link' },
      { path: join(linked, 'pipe.mp4'), reason: 'not-a-file' },
    ]);
    assert.equal(skippedFilesNote(skipped), 'skipped 1 link to nothing: gone.mp4; 1 pipe, socket or device: pipe.mp4');
    assert.equal(
      skippedFilesNote([...skipped, { path: join(linked, 'x.txt'), reason: 'extension' }]),
      'skipped 1 file without a video or picture extension: x.txt; 1 link to nothing: gone.mp4; 1 pipe, socket or device: pipe.mp4; name a file to read it anyway',
    );
    // a folder reached twice in one walk (directly and through a link) is walked once
    await symlink(join(linked, 'to_deeper'), join(linked, 'deep', 'again'));
    assert.deepEqual(
      (await collectInputs([linked])).map((i) => i.key),
      ['linked__deep__again__c.png', 'linked__deep__again__my_clip.webm', 'linked__to_a.mp4'],
    );
  });

  it('a URL is kept as given (not resolved against the working directory), so its error can name it', async () => {
    assert.deepEqual(await collectInputs(['https://example.com/clips/a.mp4']), [{ path: 'https://example.com/clips/a.mp4', key: 'a.mp4' }]);
  });

  it('an explicitly named file is kept even with a non-media extension; its key is its base name', async () => {
    const out = await collectInputs([join(root, 'other', 'x.txt')]);
    assert.deepEqual(out, [{ path: join(root, 'other', 'x.txt'), key: 'x.txt' }]);
  });

  it('a missing path is kept (absolute) so the caller can report it', async () => {
    const missing = join(root, 'nope', 'gone.mp4');
    const out = await collectInputs([missing]);
    assert.deepEqual(out, [{ path: missing, key: 'gone.mp4' }]);
  });

  it('relative paths are resolved against the working directory', async () => {
    const out = await collectInputs(['definitely-missing-unmask-test.mp4']);
    assert.equal(out[0].path, resolve('definitely-missing-unmask-test.mp4'));
    assert.equal(out[0].key, 'definitely-missing-unmask-test.mp4');
  });

  it('mixes directories, files and missing paths in argument order with unique keys', async () => {
    const out = await collectInputs([join(root, 'other', 'a.mp4'), clips, join(clips, 'a.mp4'), join(root, 'other'), join(root, 'missing.mp4')]);
    assert.deepEqual(
      out.map((i) => i.key),
      [
        'a.mp4',
        'clips__a.mp4',
        'clips__sub__b.MOV',
        'clips__sub__deeper__c.png',
        'clips__sub__deeper__my_clip.webm',
        'a.mp4~1', // clips/a.mp4 named directly collides with other/a.mp4
        'other__a.mp4', // x.txt is skipped inside a directory
        'missing.mp4',
      ],
    );
    assert.equal(new Set(out.map((i) => i.key)).size, out.length);
    assert.equal(out[5].path, join(clips, 'a.mp4'));
  });

  it('the same directory twice gets ~1 suffixes on the second pass', async () => {
    const out = await collectInputs([join(clips, 'sub', 'deeper'), join(clips, 'sub', 'deeper')]);
    assert.deepEqual(
      out.map((i) => i.key),
      ['deeper__c.png', 'deeper__my_clip.webm', 'deeper__c.png~1', 'deeper__my_clip.webm~1'],
    );
  });

  it('an empty directory yields nothing', async () => {
    assert.deepEqual(await collectInputs([join(clips, 'empty')]), []);
    assert.deepEqual(await collectInputs([]), []);
  });
});

describe('inputsFromRows', () => {
  it('keys are relative to the common directory; meta carries every column but path', () => {
    const out = inputsFromRows([
      { path: '/data/ds/real/a.mp4', label: 'real', split: 'test' },
      { path: '/data/ds/fake/m1/b.mp4', label: 'fake', method: 'm1' },
    ]);
    assert.deepEqual(out, [
      { path: '/data/ds/real/a.mp4', key: 'real__a.mp4', meta: { label: 'real', split: 'test' } },
      { path: '/data/ds/fake/m1/b.mp4', key: 'fake__m1__b.mp4', meta: { label: 'fake', method: 'm1' } },
    ]);
  });

  it('the common directory respects path boundaries (/data/ds vs /data/ds2)', () => {
    const out = inputsFromRows([{ path: '/data/ds/a.mp4' }, { path: '/data/ds2/b.mp4' }]);
    assert.deepEqual(out.map((i) => i.key), ['ds__a.mp4', 'ds2__b.mp4']);
  });

  it('paths sharing only the root are keyed from the root', () => {
    const out = inputsFromRows([{ path: '/a/x.mp4' }, { path: '/b/y.mp4' }]);
    assert.deepEqual(out.map((i) => i.key), ['a__x.mp4', 'b__y.mp4']);
  });

  it('a single row is keyed by its base name, with empty meta', () => {
    assert.deepEqual(inputsFromRows([{ path: '/data/ds/real/a.mp4' }]), [{ path: '/data/ds/real/a.mp4', key: 'a.mp4', meta: {} }]);
  });

  it('relative paths are resolved against the working directory', () => {
    const out = inputsFromRows([{ path: 'sub/a.mp4' }, { path: 'sub/deep/b.mp4' }]);
    assert.deepEqual(out.map((i) => i.path), [resolve('sub/a.mp4'), resolve('sub/deep/b.mp4')]);
    assert.deepEqual(out.map((i) => i.key), ['a.mp4', 'deep__b.mp4']);
  });

  it('duplicate keys get ~1, ~2 suffixes in row order', () => {
    const out = inputsFromRows([
      { path: '/d/x/a.mp4', label: 'real' },
      { path: '/d/x/a.mp4', label: 'fake' },
      { path: '/d/y/b.mp4' },
      { path: '/d/x/a.mp4' },
    ]);
    assert.deepEqual(out.map((i) => i.key), ['x__a.mp4', 'x__a.mp4~1', 'y__b.mp4', 'x__a.mp4~2']);
    assert.deepEqual(out[1].meta, { label: 'fake' });
  });

  it('no rows, no inputs', () => {
    assert.deepEqual(inputsFromRows([]), []);
  });
});
