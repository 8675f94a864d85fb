/**
 * `isreshape learner --bind tcp://HOST:PORT [--config FILE] [training flags]`: the learner
 * process alone (for runs across machines; `train` starts it for you with --join). Without
 * --join it starts a new run directory (refusing one that exists); with --join it trains the
 * run whose config.json `train` wrote; with --resume RUN_DIR it continues that run from its newest
 * checkpoint (deploy/resume.ts). Prints its endpoint, a status line every --status-every seconds
 * (when not started by train), trains until a budget or SIGINT/SIGTERM, writes the summary and exits 0.
 */
import type { CommandModule } from 'yargs';
import path from 'node:path';
import { trainOptions } from '../options.js';
import { configFileOptions, configFromArgs, writeRunConfig } from '../runConfig.js';
import { constFloorNotice } from '../config.js';
import { UsageError } from '../errors.js';
import { tensorboardDir, tensorboardOption } from '../tensorboardOption.js';
import { resumeConfig, resumeOption } from '../resume.js';
import { writeFileAtomic } from '../../infra/fs.js';
import { learnerNetworkOptions, parseLearnerNetwork } from '../networkOptions.js';
import { loadEnvModuleOf } from '../envModule.js';
import { logExists } from '../../protocol/logFiles.js';
import { toLauncher, UpdateRelay } from '../../protocol/ipc.js';
import { formatLearnerStatus } from '../progress.js';

export const learnerCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'learner',
  describe: 'Run the learner process (binds a ZeroMQ ROUTER; actors connect to it)',
  builder: (y) =>
    y.options({
      ...trainOptions(),
      bind: {
        type: 'string',
        default: 'tcp://127.0.0.1:5555',
        describe: 'endpoint to bind, e.g. tcp://0.0.0.0:5555 to accept other machines',
      },
      ...learnerNetworkOptions,
      ...configFileOptions(),
      tensorboard: tensorboardOption(),
      linger: {
        type: 'number',
        default: 0,
        describe:
          'after the run has ended (not after SIGINT/SIGTERM), answer actors with Stop for this many seconds, so that actors started late exit 0',
      },
      'status-every': {
        type: 'number',
        default: 30,
        describe:
          'print a status line every this many seconds (version, steps, steps/s, actors, rollouts trained/dropped/rejected, last eval); 0: none. Not under train, which prints its own progress',
      },
      ...resumeOption(),
    }),
  handler: async (argv) => {
    const net = parseLearnerNetwork(argv, argv.bind as string);
    const linger = argv.linger as number;
    if (!Number.isFinite(linger) || linger < 0) throw new UsageError(`--linger: ${linger} must be a number of seconds >= 0`);
    const statusEvery = argv['status-every'] as number;
    if (!Number.isFinite(statusEvery) || statusEvery < 0)
      throw new UsageError(`--status-every: ${statusEvery} must be a number of seconds >= 0 (0: no status line)`);
    await loadEnvModuleOf(argv);
    const resume = argv.resume !== undefined;
    const cfg = resume ? resumeConfig(argv) : configFromArgs(argv);
    const tbDir = tensorboardDir(argv.tensorboard);
    // With --resume, resumeConfig checked the run directory and the server checks the checkpoint.
    if (!resume && argv.join === true) {
      if (logExists(path.join(cfg.runDir, 'learner.ndjson')))
        throw new UsageError(
          `--join: ${cfg.runDir} already has a learner log (learner.ndjson); a run has one learner: start a new run instead`,
        );
    } else if (!resume) {
      writeRunConfig(cfg);
      const notice = constFloorNotice(cfg.objective);
      if (notice) process.stdout.write(`isreshape learner: ${notice}\n`);
    }
    // Imported here, not at the top: `isreshape --help` and the other commands should not pay
    // for loading the learner (cli.ts imports every command module for --help).
    const [
      { initBackend, activeBackend },
      { LearnerServer, answerEnded },
      { createLogger, logHealth },
      { TensorBoardWriter },
      { MsgType },
    ] = await Promise.all([
      import('../../model/backend.js'),
      import('../../learner/server.js'),
      import('../logging.js'),
      import('../../analysis/tensorboard.js'),
      import('../../protocol/messages.js'),
    ]);
    const tb = tbDir === undefined ? null : new TensorBoardWriter(tbDir);
    // tfjs is loaded only for --grad tfjs; the default float64 path reports 'js'.
    const backend = cfg.grad === 'tfjs' ? await initBackend(cfg.backend) : activeBackend();
    const logger = createLogger(
      path.join(cfg.runDir, 'learner.ndjson'),
      { role: 'learner', backend, runId: cfg.runId },
      { maxMb: cfg.logMaxMb },
    );
    const relay = new UpdateRelay();
    const server = await LearnerServer.start({
      cfg,
      bind: argv.bind as string,
      logger,
      curve: net.curve,
      onUpdate: (r) => {
        tb?.addUpdate(r);
        relay.add(r);
      },
      onStopping: (reason) => {
        relay.flush();
        toLauncher({ type: 'stopping', reason });
      },
      durability: { runDir: cfg.runDir, runConfig: cfg, resume },
    }).catch((e: unknown) => {
      if (e instanceof Error && e.name === 'ResumeError') throw new UsageError(e.message);
      throw e;
    });
    const signalled = new AbortController();
    const onSignal = (sig: string) => {
      signalled.abort();
      server.stop(`${sig} received`);
    };
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    // Started by `train`: the IPC channel closes when the launcher dies (even by SIGKILL); stop
    // as on SIGTERM (final checkpoint, summary) rather than train on as an orphan.
    const launched = process.send !== undefined;
    let launcherGone = false;
    const onLauncherGone = () => {
      launcherGone = true;
      logger.warn({ kind: 'launcher-gone' }, 'the launcher (train) exited: stopping with a final checkpoint');
      signalled.abort();
      server.stop('the launcher exited');
    };
    if (launched) process.once('disconnect', onLauncherGone);
    if (launched) toLauncher({ type: 'ready', endpoint: server.endpoint, backend });
    else process.stdout.write(`isreshape learner: backend ${backend}; listening on ${server.endpoint}; run directory ${cfg.runDir}\n`);
    // Alone (not under train's launcher), a status line every --status-every seconds.
    // The loop's own position, not the last update record's: a resumed run shows its restored
    // version, steps and evaluation from the first line, before any update.
    const t0 = Date.now();
    let prev = { t: t0, steps: server.trainingLoop.progress().envSteps };
    let stallShown: string | null = null;
    const status = () => {
      const loop = server.trainingLoop;
      // A batch that cannot fill (learner/control.ts): said once, on stderr, while it lasts.
      if (loop.stalled !== null && loop.stalled !== stallShown) process.stderr.write(`isreshape learner: ${loop.stalled}\n`);
      stallShown = loop.stalled;
      const now = Date.now();
      const at = loop.progress();
      const steps = at.envSteps;
      const c = loop.intake.counts;
      process.stdout.write(
        formatLearnerStatus({
          elapsedMs: now - t0,
          version: at.version,
          envSteps: steps,
          budget: cfg.steps,
          stepsPerSec: now > prev.t ? ((steps - prev.steps) * 1000) / (now - prev.t) : 0,
          actors: loop.admission.actors.length,
          trained: c.trained,
          dropped: c.dropped,
          rejected: c.rejected,
          ...(at.lastEval ? { lastEval: at.lastEval } : {}),
        }) + '\n',
      );
      prev = { t: now, steps };
    };
    const statusTimer = !launched && statusEvery > 0 ? setInterval(status, statusEvery * 1000) : undefined;
    statusTimer?.unref();
    const summary = await server.run().finally(() => clearInterval(statusTimer));
    const summaryFile = path.join(cfg.runDir, 'summary.json');
    let unwritten: string | undefined;
    try {
      writeFileAtomic(summaryFile, JSON.stringify(summary, null, 2) + '\n');
    } catch (e) {
      // A full or read-only disk: the summary is printed instead (the launcher prints it too).
      unwritten = (e as Error).message;
      process.stderr.write(`isreshape learner: ${summaryFile} not written (${unwritten}); the summary: ${JSON.stringify(summary)}\n`);
    }
    if (tb) {
      try {
        tb.addSummary(summary);
        tb.close();
      } catch (e) {
        process.stderr.write(`isreshape learner: TensorBoard files not completed (${(e as Error).message})\n`);
      }
    }
    relay.flush();
    if (launched && !launcherGone) toLauncher({ type: 'summary', summary, ...(unwritten !== undefined ? { unwritten } : {}) });
    else
      process.stdout.write(
        `isreshape learner: ${summary.stopReason}; ${summary.envSteps} steps, ${summary.finalEval ? `final eval ${summary.finalEval.stochastic.toFixed(1)} (greedy ${summary.finalEval.greedy.toFixed(1)})` : `final evaluation ${summary.finalEvalError !== undefined ? `failed: ${summary.finalEvalError}` : 'not made'}`}\n`,
      );
    if (linger > 0 && !signalled.signal.aborted)
      await answerEnded({
        bind: argv.bind as string,
        curve: net.curve,
        stop: { type: MsgType.Stop, version: summary.version, reason: `the run has ended: ${summary.stopReason}` },
        ms: linger * 1000,
        signal: signalled.signal,
        logger,
      });
    // Writes are synchronous; this waits for the compression of segments rotated so far (and
    // makes the final attempt to write lines held after a failed write: deploy/logging.ts).
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    const health = logHealth(logger);
    // Exit 1 when the run's own files are incomplete or it stopped because it could not learn.
    if (unwritten !== undefined || (health !== null && health.unwritten > 0) || summary.failed === true) process.exitCode = 1;
    process.off('disconnect', onLauncherGone);
    if (process.disconnect && process.connected) process.disconnect();
  },
};
