/**
 * `isreshape compare RUN_DIR... [--out DIR] [--json] [--threshold R] [--bootstrap 2000]`:
 * group runs by method label, lag and every other varied config flag; print one sentence per
 * lag, the per-lag ranking by IQM with bootstrap CIs, probability of improvement over the best
 * and Welch's test, the per-group table; write OUT/report.html with heatmaps and charts.
 */
import { dirname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { compareRuns } from '../../analysis/compare.js';
import { renderBlocksText } from '../../analysis/layout.js';
import { DEFAULT_BOOTSTRAP } from '../../analysis/robust.js';
import { checkCommandFlag, commandOptions, commandPositional, commandRow } from '../commandFields.js';
import { findRunDirs, isRunDir, readRun } from '../../analysis/read.js';
import { thresholdsFor, type GivenThreshold } from '../../analysis/thresholds.js';
import { asUsage, givenThreshold } from './analysisErrors.js';

export interface CompareArgs {
  runDirs: string[];
  /** Where report.html goes. Default: the single directory given if it is a sweep directory, else the first run's parent. */
  out?: string;
  json: boolean;
  /** Default: the runs' environment's (analysis/thresholds.ts), per environment when they differ. */
  threshold?: number;
  bootstrap: number;
}

/**
 * Compare run directories and write the report to `out`; returns the text printed. Used by
 * sweep too. Without `threshold`, the runs' environments' defaults (analysis/thresholds.ts).
 */
export async function runCompare(
  paths: string[],
  out: string | undefined,
  json: boolean,
  threshold: GivenThreshold | undefined,
  bootstrap = DEFAULT_BOOTSTRAP,
): Promise<string> {
  const dirs = await asUsage(() => findRunDirs(paths));
  const runs = await asUsage(() => Promise.all(dirs.map((d) => readRun(d))));
  const outDir = out ?? (paths.length === 1 && !(await isRunDir(paths[0]!)) ? paths[0]! : dirname(dirs[0]!));
  const a = compareRuns(
    runs,
    thresholdsFor(
      runs.map((r) => r.config.env),
      threshold,
    ),
    { bootstrap },
  );
  const files = await (await loadReport()).writeReport(outDir, `isreshape compare: ${runs.length} runs`, a);
  for (const w of a.warnings) process.stderr.write(`warning: ${w}\n`);
  if (json) return JSON.stringify({ ...a.figures, report: files }, null, 2) + '\n';
  return renderBlocksText(a.layout) + `\n\nreport: ${files.html} (${files.pngs.length} PNG charts)\n`;
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <runDirs..>',
  describe: 'Compare runs grouped by (method, lag) over seeds; writes report.html',
  builder: (y) =>
    y
      .positional('runDirs', commandPositional(commandRow('compare', 'runDirs')))
      .options(commandOptions('compare')) as unknown as Argv<CompareArgs>,
  handler: async (argv) => {
    const threshold = givenThreshold(argv.threshold);
    process.stdout.write(await runCompare(argv.runDirs.map(String), argv.out, argv.json, threshold, checkBootstrap(argv.bootstrap)));
  },
};

/** vega and resvg take ~0.6 s to load: only commands that write a report pay for it. */
function loadReport(): Promise<typeof import('../../analysis/report.js')> {
  return import('../../analysis/report.js');
}

/** Check a --bootstrap value: a whole number of resamples from 100 to 1,000,000 (its row in deploy/commandFields.ts). */
export function checkBootstrap(v: unknown): number {
  return checkCommandFlag('compare', 'bootstrap', v) as number;
}
