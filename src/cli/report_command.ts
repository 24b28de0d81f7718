/** `unmask report`: a self-contained HTML page (tables and Chart.js charts) from an eval results.json. */
import { Command } from 'commander';
import { writeHtmlReport } from '../report/html_report.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('write a self-contained HTML report (metrics tables, ROC/PR curves, histograms, reliability, worst videos) from `unmask eval` results')
    .argument('<results.json>', 'results written by `unmask eval` (schema unmask.eval/1)')
    .option('-o, --out <file>', 'HTML file to write', 'report.html')
    .action(async (resultsPath: string, o: { out: string }) => {
      const { bytes, charts } = await writeHtmlReport(resultsPath, o.out);
      process.stdout.write(`wrote ${o.out} (${charts} charts, ${(bytes / 1024).toFixed(0)} KB)\n`);
    });
}
