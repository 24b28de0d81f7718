/**
 * `unmask train` / `unmask export-model`: drive the Python training package (training/unmask_train)
 * with every argument passed through. Python is only for training; the ONNX + manifest it writes is
 * what `scan` reads.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../models/registry.js';
import { ToolMissingError } from '../util/errors.js';

/** Debian's python3 sees the apt-installed torch; a pyenv python3 first on PATH usually does not. */
export function findTrainingPython(): string {
  const candidates = [process.env.UNMASK_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  throw new ToolMissingError(
    'no Python with torch, torchvision and onnx found: apt-get install python3-torch python3-torchvision python3-onnx (or set UNMASK_PYTHON)',
  );
}

function passThrough(name: string, sub: 'train' | 'export', description: string): Command {
  return new Command(name)
    .description(`${description} (arguments go to python -m unmask_train ${sub}; --help lists them)`)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(async (args: string[]) => {
      const cwd = join(packageRoot(), 'training');
      if (!existsSync(join(cwd, 'unmask_train'))) throw new ToolMissingError(`training package not found in ${cwd}`);
      const py = findTrainingPython();
      const code = await new Promise<number>((res) => {
        const child = spawn(py, ['-m', 'unmask_train', sub, ...args], { cwd, stdio: 'inherit' });
        // a run outlives no interrupted `unmask train` (its checkpoints per epoch stay)
        const stop = () => child.exitCode === null && child.signalCode === null && child.kill('SIGTERM');
        process.once('exit', stop);
        child.on('close', (c) => {
          process.off('exit', stop);
          res(c ?? 1);
        });
      });
      process.exitCode = code;
    });
}

export function trainCommand(): Command {
  return passThrough('train', 'train', 'train a detector on crops written by `unmask extract`');
}

export function exportModelCommand(): Command {
  return passThrough('export-model', 'export', 'export a training run to ONNX + manifest');
}
