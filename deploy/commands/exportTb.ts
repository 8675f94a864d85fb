/**
 * `isreshape export-tb RUN_DIR [--out DIR]`: convert a run's learner.ndjson (its rotated segments
 * included: analysis/read.ts `readRun`) into a TensorBoard
 * event file (default DIR: RUN_DIR/tensorboard), one event per update at step = env steps, then
 * the summary's final evaluation. View with `tensorboard --logdir DIR`.
 */
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { readRun } from '../../analysis/read.js';
import { exportRun } from '../../analysis/tensorboard.js';
import { UsageError } from '../errors.js';
import { asUsage } from './analysisErrors.js';

export interface ExportTbArgs {
  runDir: string;
  out?: string;
}

export const exportTbCommand: CommandModule<object, ExportTbArgs> = {
  command: 'export-tb <runDir>',
  describe: "Write a run's logged scalars as a TensorBoard event file",
  builder: (y) =>
    y
      .positional('runDir', { type: 'string', demandOption: true, describe: 'run directory (runs/<id>) holding learner.ndjson' })
      .option('out', { type: 'string', describe: 'directory for the event file (default: RUN_DIR/tensorboard)' }),
  handler: async (argv) => {
    if (argv.out !== undefined && (typeof argv.out !== 'string' || argv.out.trim() === '')) {
      throw new UsageError(`--out: missing directory; e.g. --out runs/tb`);
    }
    const run = await asUsage(() => readRun(argv.runDir));
    if (run.updates.length === 0 && run.summary === null) {
      throw new UsageError(`${argv.runDir}: no update or summary records in learner.ndjson; nothing to export`);
    }
    const out = argv.out ?? join(run.dir, 'tensorboard');
    const r = exportRun(out, run.updates, run.summary);
    for (const w of run.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`wrote ${r.events} events (${r.scalars} scalars, ${run.updates.length} updates) to ${r.path}\n`);
  },
};
