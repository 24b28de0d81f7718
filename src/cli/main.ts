#!/usr/bin/env node
/** The `unmask` command line. Each command lives in its own file; this only wires them up. */
import { Command } from 'commander';
import { reportFatal } from './errors.js';
import { demoCommand } from './demo_command.js';
import { evalCommand } from './eval_command.js';
import { extractCommand } from './extract_command.js';
import { indexCommand } from './index_command.js';
import { modelsCommand } from './models_command.js';
import { reportCommand } from './report_command.js';
import { scanCommand } from './scan_command.js';
import { exportModelCommand, trainCommand } from './train_command.js';

const program = new Command('unmask')
  .description('Tells whether a video or image shows a face-manipulated person (deepfake, face swap, re-enactment).')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');
program.addCommand(scanCommand(), { isDefault: false });
program.addCommand(demoCommand());
program.addCommand(extractCommand());
program.addCommand(evalCommand());
program.addCommand(indexCommand());
program.addCommand(trainCommand());
program.addCommand(exportModelCommand());
program.addCommand(reportCommand());
program.addCommand(modelsCommand());

// Ctrl-C or a kill ends the process the ordinary way, so its exit hooks run: the folder of decoder
// FIFOs is removed and a training child is stopped (Node's default for these signals skips them)
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    process.stderr.write(`unmask: interrupted (${signal})\n`);
    process.exit(code);
  });
}

program.parseAsync(process.argv).catch(reportFatal);
