/**
 * `isreshape analyze RUN_DIR [--json] [--threshold R]`: read one run directory, print its
 * tables (or the figures as JSON) and write RUN_DIR/report.html with charts/<name>.png.
 */
import type { Argv, CommandModule } from 'yargs';
import { analyzeRun } from '../../analysis/analyzeRun.js';
import { renderBlocksText } from '../../analysis/layout.js';
import { readRun } from '../../analysis/read.js';
import { resolveThreshold } from '../../analysis/thresholds.js';
import { commandOptions, commandPositional, commandRow } from '../commandFields.js';
import { asUsage, givenThreshold } from './analysisErrors.js';

export interface AnalyzeArgs {
  runDir: string;
  /** Print the figures as one JSON document instead of text tables. */
  json: boolean;
  /** Return that counts as solved, for steps-to-threshold. Default: the run's environment's (analysis/thresholds.ts), none for an env without one. */
  threshold?: number;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <runDir>',
  describe: 'Tables and an HTML report (RUN_DIR/report.html) for one run directory',
  builder: (y) =>
    y
      .positional('runDir', commandPositional(commandRow('analyze', 'runDir')))
      .options(commandOptions('analyze')) as unknown as Argv<AnalyzeArgs>,
  handler: async (argv) => {
    const given = givenThreshold(argv.threshold);
    const run = await asUsage(() => readRun(argv.runDir));
    const a = analyzeRun(run, resolveThreshold([run.config.env], given));
    const files = await (await loadReport()).writeReport(run.dir, `isreshape run ${run.config.runId}`, a);
    for (const w of a.warnings) process.stderr.write(`warning: ${w}\n`);
    if (argv.json) {
      process.stdout.write(JSON.stringify({ ...a.figures, report: files }, null, 2) + '\n');
      return;
    }
    process.stdout.write(renderBlocksText(a.layout) + `\n\nreport: ${files.html} (${files.pngs.length} PNG charts)\n`);
  },
};

/** vega and resvg take ~0.6 s to load: only commands that write a report pay for it. */
function loadReport(): Promise<typeof import('../../analysis/report.js')> {
  return import('../../analysis/report.js');
}
