/**
 * `isreshape learner --bind tcp://HOST:PORT [--config FILE] [training flags]`: the learner
 * process alone (for runs across machines; `train` starts it for you with --join). Without
 * --join it starts a new run directory (refusing one that exists); with --join it trains the
 * run whose config.json `train` wrote. Prints its endpoint, trains until a budget or
 * SIGINT/SIGTERM, writes the summary and exits 0.
 */
import type { CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { trainOptions } from '../options.js';
import { configFileOptions, configFromArgs, writeRunConfig } from '../runConfig.js';
import { constFloorNotice } from '../config.js';
import { UsageError } from '../errors.js';
import { loadEnvModuleOf } from '../envModule.js';

export const learnerCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'learner',
  describe: 'Run the learner process (binds a ZeroMQ ROUTER; actors connect to it)',
  builder: (y) => y.options({
    ...trainOptions(),
    bind: { type: 'string', default: 'tcp://127.0.0.1:5555', describe: 'endpoint to bind, e.g. tcp://0.0.0.0:5555 to accept other machines' },
    ...configFileOptions(),
  }),
  handler: async (argv) => {
    await loadEnvModuleOf(argv);
    const cfg = configFromArgs(argv);
    if (argv.join === true) {
      const log = path.join(cfg.runDir, 'learner.ndjson');
      if (existsSync(log)) throw new UsageError(`--join: ${cfg.runDir} already has a learner log (learner.ndjson); a run has one learner: start a new run instead`);
    } else {
      writeRunConfig(cfg);
      const notice = constFloorNotice(cfg.objective);
      if (notice) process.stdout.write(`isreshape learner: ${notice}\n`);
    }
    // Imported here, not at the top: tfjs costs ~0.5 s of CPU to load, and `isreshape --help`
    // or any other command should not pay it (cli.ts imports every command module for --help).
    const [{ initBackend }, { LearnerServer }, { createLogger }] = await Promise.all([
      import('../../model/backend.js'), import('../../learner/server.js'), import('../logging.js'),
    ]);
    const backend = await initBackend(cfg.backend);
    const logger = createLogger(path.join(cfg.runDir, 'learner.ndjson'), { role: 'learner', backend, runId: cfg.runId });
    const server = await LearnerServer.start({
      cfg, bind: argv.bind as string, logger,
      onUpdate: (r) => process.send?.({ type: 'update', record: r }),
      onStopping: (reason) => process.send?.({ type: 'stopping', reason }),
    });
    const onSignal = (sig: string) => server.stop(`${sig} received`);
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    if (process.send) process.send({ type: 'ready', endpoint: server.endpoint, backend });
    else process.stdout.write(`isreshape learner: backend ${backend}; listening on ${server.endpoint}; run directory ${cfg.runDir}\n`);
    const summary = await server.run();
    if (process.send) process.send({ type: 'summary', summary });
    else process.stdout.write(`isreshape learner: ${summary.stopReason}; ${summary.envSteps} steps, final eval ${summary.finalEval?.stochastic.toFixed(1)} (greedy ${summary.finalEval?.greedy.toFixed(1)})\n`);
    logger.flush();
    if (process.disconnect && process.connected) process.disconnect();
  },
};
