#!/usr/bin/env node
/** The `unmask` command line. Each command lives in its own file; this only wires them up. */
import { Command } from 'commander';
import { reportFatal } from './errors.js';

/**
 * Each command's module, imported only when that command runs (all of them for the help listing or
 * an unknown name): importing every command's dependencies took about 0.1 s of each `unmask scan`.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  scan: async () => (await import('./scan_command.js')).scanCommand(),
  demo: async () => (await import('./demo_command.js')).demoCommand(),
  extract: async () => (await import('./extract_command.js')).extractCommand(),
  eval: async () => (await import('./eval_command.js')).evalCommand(),
  index: async () => (await import('./index_command.js')).indexCommand(),
  train: async () => (await import('./train_command.js')).trainCommand(),
  'export-model': async () => (await import('./train_command.js')).exportModelCommand(),
  report: async () => (await import('./report_command.js')).reportCommand(),
  models: async () => (await import('./models_command.js')).modelsCommand(),
};

const program = new Command('unmask')
  .description('Tells whether a video or image shows a face-manipulated person (deepfake, face swap, re-enactment).')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');
// the program has no options of its own before a command but --help and --version
const named = process.argv.slice(2).find((a) => !a.startsWith('-'));
const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [COMMANDS[named]] : Object.values(COMMANDS);

// Ctrl-C or a kill ends the process the ordinary way, so its exit hooks run: the folder of decoder
// FIFOs is removed and a training child is stopped (Node's default for these signals skips them)
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    process.stderr.write(`unmask: interrupted (${signal})\n`);
    process.exit(code);
  });
}

Promise.all(wanted.map((load) => load()))
  .then((commands) => {
    for (const command of commands) program.addCommand(command);
    return program.parseAsync(process.argv);
  })
  .catch(reportFatal);
