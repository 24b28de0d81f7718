/**
 * Test models with an explanation output:
 * - {@link tinyExplainOnnx}: hand-encoded graph `logit = mean(input)`, `cam = Relu(mean over channels)`
 *   [N, 1, S, S] (no dependencies; exact expected values);
 * - {@link exportTinyFrameModel}: a real (untrained, random) frame model exported by the training
 *   package, with its in-graph Grad-CAM or attention output; null when no Python with torch exists.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concat, floatTensorInfo, int, intAttr, intsAttr, msg, str, type Field } from './tiny_onnx.js';

const node = (op: string, inputs: string[], output: string, ...attrs: Field[]) =>
  msg(1, ...inputs.map((i) => str(1, i)), str(2, output), str(4, op), ...attrs);

/** Serialized ONNX (opset 13): input [N,3,S,S] -> logit [N] (mean), cam [N,1,S,S] (Relu of channel mean). */
export function tinyExplainOnnx(size: number, camName = 'cam'): Uint8Array {
  const graph = msg(
    7,
    node('ReduceMean', ['input'], 'logit', intsAttr('axes', [1, 2, 3]), intAttr('keepdims', 0)),
    node('ReduceMean', ['input'], 'chanmean', intsAttr('axes', [1]), intAttr('keepdims', 1)),
    node('Relu', ['chanmean'], camName),
    str(2, 'tiny-explain'),
    floatTensorInfo(11, 'input', ['N', 3, size, size]),
    floatTensorInfo(12, 'logit', ['N']),
    floatTensorInfo(12, camName, ['N', 1, size, size]),
  );
  return concat([int(1, 7), str(2, 'unmask-test'), graph, msg(8, str(1, ''), int(2, 13))]);
}

const TRAINING_DIR = fileURLToPath(new URL('../../../training', import.meta.url));

/** The first Python that imports torch, torchvision and onnx (as `unmask train` looks for one), or null. */
export function trainingPython(): string | null {
  for (const py of [process.env.UNMASK_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

/**
 * Exports `arch` (random weights, realistic BN statistics) at `size` px to `<dir>/<name>.onnx` plus a
 * manifest with crop margin 0.3 at `cropSize`, through the training package's own export path.
 * Returns the manifest path, or null without a suitable Python.
 */
export function exportTinyFrameModel(dir: string, name: string, arch: string, size: number, cropSize = 256): string | null {
  const py = trainingPython();
  if (!py) return null;
  const script = `
import json, sys, warnings, torch
from pathlib import Path
from unmask_train import export as E
from unmask_train.model import build_model
warnings.simplefilter("ignore")
torch.manual_seed(0)
out, name, arch, size, crop = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
m = build_model(arch, size)
for b in m.modules():
    if isinstance(b, torch.nn.BatchNorm2d):
        b.momentum = None
m.train()
with torch.no_grad():
    m(torch.randn(4, 3, size, size))
    m.head.weight.normal_()
m.eval()
kind = E.export_onnx(m, size, out / f"{name}.onnx")
ckpt = {"arch": arch, "size": size, "mean": [0.5] * 3, "std": [0.5] * 3, "margin": 0.3, "crop_size": crop, "config": {}}
man = E.build_manifest(name, "0.0.1", ckpt, {}, "test fixture, random weights", kind)
(out / f"{name}.manifest.json").write_text(json.dumps(man))
`;
  const r = spawnSync(py, ['-c', script, dir, name, arch, String(size), String(cropSize)], {
    cwd: TRAINING_DIR,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) throw new Error(`fixture export failed: ${r.stderr.slice(-1000)}`);
  return join(dir, `${name}.manifest.json`);
}
