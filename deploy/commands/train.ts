/**
 * `isreshape train [--config FILE] [--preset cartpole] [training flags]`: the whole system on
 * this machine: the learner and --actors actor processes (each with --workers threads) on
 * a private ipc:// socket (deploy/launcher.ts), in a new run directory.
 */
import type { CommandModule } from 'yargs';
import { trainOptions } from '../options.js';
import { configFileOptions, configFromArgs } from '../runConfig.js';
import { tensorboardDir, tensorboardOption } from '../tensorboardOption.js';
import { resumeConfig, resumeOption } from '../resume.js';
import { loadEnvModuleOf } from '../envModule.js';

export const trainCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'train',
  describe: 'Train: start the learner and the actors on this machine and show progress',
  builder: (y) =>
    y.options({
      ...trainOptions(),
      config: configFileOptions().config,
      ...resumeOption(),
      quiet: { type: 'boolean', default: false, describe: 'no progress lines (the final summary is still printed)' },
      tensorboard: tensorboardOption(),
    }),
  handler: async (argv) => {
    await loadEnvModuleOf(argv);
    const resume = argv.resume !== undefined;
    const cfg = resume ? resumeConfig(argv) : configFromArgs(argv);
    const tensorboard = tensorboardDir(argv.tensorboard);
    // Imported here so that `--help` and the other commands do not load pino.
    const { launchTraining } = await import('../launcher.js');
    process.exitCode = await launchTraining(cfg, {
      quiet: argv.quiet as boolean,
      out: process.stdout,
      resume,
      ...(tensorboard !== undefined ? { tensorboard } : {}),
    });
  },
};
