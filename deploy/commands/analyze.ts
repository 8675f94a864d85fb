/**
 * `isreshape analyze RUN_DIR [--json] [--threshold 475]`: read one run directory, print its
 * tables (or the figures as JSON) and write RUN_DIR/report.html with charts/<name>.png.
 */
import type { CommandModule } from 'yargs';
import { analyzeRun } from '../../analysis/analyzeRun.js';
import { renderBlocksText } from '../../analysis/layout.js';
import { readRun } from '../../analysis/read.js';
import { DEFAULT_THRESHOLD } from '../../analysis/tables.js';
import { asUsage, checkThreshold } from './analysisErrors.js';

export interface AnalyzeArgs {
  runDir: string;
  /** Print the figures as one JSON document instead of text tables. */
  json: boolean;
  /** Return that counts as solved, for steps-to-threshold. Default 475 (CartPole-v1). */
  threshold: number;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <runDir>',
  describe: 'Tables and an HTML report (RUN_DIR/report.html) for one run directory',
  builder: (y) =>
    y
      .positional('runDir', { type: 'string', demandOption: true, describe: 'run directory (runs/<id>) holding learner.ndjson' })
      .option('json', { type: 'boolean', default: false, describe: 'print the figures as JSON' })
      .option('threshold', { type: 'number', default: DEFAULT_THRESHOLD, describe: 'return counted as solved (steps to threshold)' }),
  handler: async (argv) => {
    const threshold = checkThreshold(argv.threshold);
    const run = await asUsage(() => readRun(argv.runDir));
    const a = analyzeRun(run, threshold);
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
