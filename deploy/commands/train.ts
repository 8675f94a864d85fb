/**
 * `isreshape train [--preset cartpole] [training flags]`: the whole system on this machine:
 * the learner and --actors actor processes (each with --workers threads) on loopback.
 */
import type { CommandModule } from 'yargs';
import { trainOptions } from '../options.js';
import { buildConfig } from '../options.js';
import { launchTraining } from '../launcher.js';

export const trainCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'train',
  describe: 'Train: start the learner and the actors on this machine and show progress',
  builder: (y) => y.options({
    ...trainOptions(),
    quiet: { type: 'boolean', default: false, describe: 'no progress lines (the final summary is still printed)' },
  }),
  handler: async (argv) => {
    const cfg = buildConfig(argv);
    process.exitCode = await launchTraining(cfg, { quiet: argv.quiet as boolean, out: process.stdout });
  },
};
