import type { Command } from 'commander';
import { writeReport } from '../report/write-report.js';

/**
 * Adds `tripletflow report DIR`: reads a training run directory and writes `DIR/report.html` (self-contained, inline
 * SVG) and each chart as `DIR/report/<chart>.svg`, then prints `{html, charts}` as one JSON line on stdout.
 */
export function registerReportCommand(program: Command): void {
  program.command('report')
    .description('write DIR/report.html (self-contained: summary and inline SVG charts) and one SVG per chart under DIR/report/ for a training run directory')
    .argument('<dir>', 'a training run directory: the --out of tripletflow train (holds metrics.jsonl)')
    .action(async (dir: string) => {
      const written = await writeReport(dir);
      process.stdout.write(`${JSON.stringify(written)}\n`);
    });
}
