/** `unmask demo`: renders a clip from a photo shipped with the install and scans it, so a new user sees a scan at once. */
import { Command } from 'commander';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderClipFromPhoto, samplePhoto } from '../media/render_clip.js';
import { Scanner } from '../pipeline/scanner.js';
import { formatTable } from './scan_format.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('render a 4 s clip of three real people from a photo shipped with unmask, then scan it')
    .option('-o, --out <clip.mp4>', 'where to write the rendered clip (default: a temp folder)')
    .action(async (o) => {
      const out = o.out ?? join(await mkdtemp(join(tmpdir(), 'unmask-demo-')), 'three_people.mp4');
      const photo = samplePhoto(1);
      process.stdout.write(`rendering ${out} from ${photo} ...\n`);
      // the models load while ffmpeg renders the clip
      const opening = Scanner.open();
      opening.catch(() => undefined); // its failure is met below, after the render
      try {
        await renderClipFromPhoto(photo, out);
      } catch (e) {
        await opening.then((s) => s.dispose(), () => undefined);
        throw e;
      }
      const scanner = await opening;
      try {
        const r = await scanner.scan(out);
        await scanner.ready;
        process.stdout.write(`${formatTable([r])}\n`);
        process.stdout.write(`(real people, so REAL is the right answer; scan your own files with: unmask scan <video|image|dir>)\n`);
      } finally {
        await scanner.dispose();
      }
    });
}
