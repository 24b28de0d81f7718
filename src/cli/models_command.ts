/** `unmask models`: the shipped models, which one is the default, and what each is. */
import { Command } from 'commander';
import { describeShippedModels, type ModelSummary } from '../models/model_catalog.js';

function row(m: ModelSummary): string[] {
  const members = m.weights ? m.members?.map((n, i) => `${m.weights![i].toFixed(2)} x ${n}`) : m.members;
  const what = m.kind === 'ensemble' ? `${m.weights ? 'weighted ' : ''}mean of ${members?.join(' + ') ?? '?'}` : `${m.arch ?? '?'} @ ${m.inputSize ?? '?'} px`;
  const size = m.onnxBytes === undefined ? '' : `${(m.onnxBytes / 1e6).toFixed(1)} MB`;
  return [m.name + (m.isDefault ? ' (default)' : ''), m.kind, what, size, m.error ? `error: ${m.error}` : ''];
}

export function formatModels(models: readonly ModelSummary[]): string {
  const header = ['name', 'kind', 'what', 'ONNX', ''];
  const rows = models.map(row);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function modelsCommand(): Command {
  return new Command('models')
    .description('list the shipped models (use a name with `scan --model`); the default is marked')
    .option('--json', 'one JSON document: [{name, isDefault, kind, manifestPath, members, weights? | arch, inputSize, onnxBytes, error?}]')
    .action(async (o: { json?: boolean }) => {
      const models = await describeShippedModels();
      process.stdout.write(o.json ? `${JSON.stringify(models, null, 2)}\n` : formatModels(models));
    });
}
