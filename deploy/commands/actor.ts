/**
 * `isreshape actor --connect tcp://HOST:PORT --actor-id N [--config FILE] [training flags]`:
 * one actor process (W worker threads). The environment, network and lag settings must match
 * the learner's (the model hash is checked). With --join it logs into the learner's run
 * directory and uses its config.json (what `train` does); without, into --run-dir, by default
 * runs/<the learner's run id>-actor<N> (learnt from the answer to its hello; the folder is
 * continued when the same actor starts again). Prints one line when it joins (the learner's
 * version then) and when it joins again a restarted learner. Stops on SIGINT/SIGTERM, when the
 * learner rejects it, or when the learner is silent for --idle-timeout seconds.
 */
import type { CommandModule } from 'yargs';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { modelSpecFor } from '../../envs/registry.js';
import { loadEnvModuleOf } from '../envModule.js';
import { segmentsPerSlot } from '../../protocol/actorsConfig.js';
import { teacherShareOf } from '../../envs/config.js';
import { trainOptions } from '../options.js';
import { configFileOptions, configFromArgs, writeRunConfig } from '../runConfig.js';
import { UsageError } from '../errors.js';
import { resumeConfig, resumeOption } from '../resume.js';
import { actorNetworkOptions, parseActorNetwork } from '../networkOptions.js';
import { writeFileAtomic } from '../../infra/fs.js';
import type { Joined } from '../../actor/actor.js';
import { DEFAULT_ENV_TIMEOUT_SEC } from '../../envs/watchdog.js';

/** How long a stopping actor process may take before it exits regardless, ms (the launcher's own SIGKILL comes after 5 s). */
export const ACTOR_STOP_BOUND_MS = 10_000;

export const actorCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'actor',
  describe: 'Run one actor process (connects a ZeroMQ DEALER to the learner)',
  builder: (y) =>
    y.options({
      ...trainOptions(),
      connect: { type: 'string', demandOption: true, describe: "the learner's endpoint, e.g. tcp://learner-host:5555" },
      'actor-id': { type: 'number', default: 0, describe: "this actor's id, unique per run (0..actors-1)" },
      'idle-timeout': {
        type: 'number',
        default: 120,
        describe: 'exit when the learner is silent this many seconds (also how long to wait for a restarted learner)',
      },
      'actor-buffer': {
        type: 'number',
        default: 64,
        describe:
          'segments kept while the learner is unreachable (its connection closed), oldest dropped and counted; sent to the restarted learner first (0: wait without collecting; ignored with --deterministic)',
      },
      ...actorNetworkOptions,
      ...configFileOptions(),
      ...resumeOption(),
    }),
  handler: async (argv) => {
    const actorId = argv['actor-id'] as number;
    if (!Number.isInteger(actorId) || actorId < 0) throw new UsageError(`--actor-id: ${actorId} must be an integer >= 0`);
    const bufferSegments = argv['actor-buffer'] as number;
    if (!Number.isInteger(bufferSegments) || bufferSegments < 0)
      throw new UsageError(`--actor-buffer: ${bufferSegments} must be an integer >= 0 (segments kept while the learner is down)`);
    const idle = argv['idle-timeout'] as number;
    if (!Number.isFinite(idle) || idle <= 0) throw new UsageError(`--idle-timeout: ${idle} must be a number of seconds > 0`);
    const net = parseActorNetwork(argv);
    await loadEnvModuleOf(argv);
    // --resume: the run's actor again (resumed run, or restarted by train): its log continues.
    const resume = argv.resume !== undefined;
    const suffix = `-actor${actorId}`;
    const cfg = resume ? resumeConfig(argv) : configFromArgs(argv, { runDirSuffix: suffix });
    // Alone with the default run directory, the actor names its folder after the learner's run
    // (runs/<learner run id>-actor<N>), which it learns from the answer to its hello: the log
    // is kept in memory until then, and goes to runs/<own run id>-actor<N> if no learner answers.
    const named = !resume && argv.join !== true && cfg.runDir === path.resolve('runs', cfg.runId + suffix);
    if (!resume && argv.join !== true && !named) writeRunConfig(cfg);
    else if (!resume && argv.join === true && existsSync(path.join(cfg.runDir, `actor-${actorId}.ndjson`))) {
      throw new UsageError(`--actor-id: ${cfg.runDir} already has a log for actor ${actorId}; give each actor of a run its own --actor-id`);
    }
    // Imported here so that `--help` and the other commands do not load zeromq, piscina and pino.
    const [{ Actor }, { createLogger, createDeferredLogger }] = await Promise.all([
      import('../../actor/actor.js'),
      import('../logging.js'),
    ]);
    // Actors act with the pure-JS forward pass: no tensor backend is loaded in this process.
    const base = { role: 'actor', backend: 'js', runId: cfg.runId };
    const deferred = named ? createDeferredLogger(base) : null;
    const logger = deferred?.logger ?? createLogger(path.join(cfg.runDir, `actor-${actorId}.ndjson`), base);
    let logDir = named ? null : cfg.runDir;
    /** The folder of a named actor: after the learner's run, created (or continued: the same actor started again) with its config. */
    const openNamed = (runId: string, dir: string) => {
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, runId, runDir: dir }, null, 2) + '\n');
      deferred!.open(path.join(dir, `actor-${actorId}.ndjson`), runId);
      logDir = dir;
    };
    const onJoined = (j: Joined) => {
      if (deferred && deferred.file === null) {
        const runId = j.runId ?? cfg.runId;
        openNamed(runId, path.resolve('runs', runId + suffix));
      }
      // Under train (an IPC channel to the launcher) the line would only repeat train's own progress.
      if (!process.send)
        process.stdout.write(
          `isreshape actor ${actorId}: ${j.rejoin ? 'joined again' : 'joined'} learner at ${String(argv.connect)} at version ${j.version}${j.runId ? ` (run ${j.runId})` : ''}; log ${path.join(logDir!, `actor-${actorId}.ndjson`)}\n`,
        );
    };
    const actor = new Actor({
      actorId,
      endpoint: argv.connect as string,
      envId: cfg.env,
      envModule: cfg.envModule,
      modelSpec: modelSpecFor(cfg.env, cfg.hidden),
      workers: cfg.workers,
      envsPerWorker: cfg.envsPerWorker,
      segmentSteps: cfg.segmentSteps,
      seed: cfg.seed,
      lag: cfg.lag,
      actorDelayMs: cfg.actorDelayMs,
      maxInFlight: cfg.maxInFlight,
      historyVersions: cfg.historyVersions,
      deterministicSegmentsPerSlot: cfg.deterministic ? segmentsPerSlot(cfg) : 0,
      statsEveryMs: 2000,
      idleTimeoutMs: idle * 1000,
      bufferSegments,
      logger,
      heartbeatMs: cfg.heartbeatMs,
      envTimeoutMs: (cfg.envTimeoutSec ?? DEFAULT_ENV_TIMEOUT_SEC) * 1000,
      connectTimeoutMs: net.connectTimeoutMs,
      curve: net.curve,
      behaviour: { groupSize: cfg.groupSize, teacherShare: teacherShareOf(cfg.behaviour) ?? 0, teacherEps: cfg.teacherEps },
      onJoined,
    });
    // No learner answered (or it failed first): the kept lines go to the actor's own run directory.
    const openFallback = () => {
      if (deferred && deferred.file === null) openNamed(cfg.runId, cfg.runDir);
    };
    // Stop after the current segment; a process whose loops do not end within STOP_BOUND_MS
    // (an environment stuck in a call, a send that never completes) exits anyway.
    const stop = (why: string) => {
      actor.stop();
      setTimeout(() => {
        logger.error({ kind: 'actor-stop-forced', actorId, why }, `actor did not stop within ${ACTOR_STOP_BOUND_MS / 1000} s: exiting`);
        openFallback();
        logger.flush();
        process.exit(1);
      }, ACTOR_STOP_BOUND_MS).unref();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    // Started by `train`: the IPC channel closes when the launcher dies (even by SIGKILL).
    const onLauncherGone = () => {
      logger.warn({ kind: 'launcher-gone', actorId }, 'the launcher (train) exited: stopping');
      stop('the launcher exited');
    };
    if (process.send) process.once('disconnect', onLauncherGone);
    logger.info({ kind: 'actor-start', actorId, endpoint: argv.connect }, 'actor starting');
    try {
      await actor.run();
    } catch (e) {
      // E.g. the env misbehaved in a worker (an observation of the wrong size, a NaN): logged,
      // then the process exits non-zero with the message (the launcher reports it).
      logger.error({ kind: 'actor-error', actorId, error: (e as Error).message }, 'actor failed');
      openFallback();
      logger.flush();
      throw e;
    }
    logger.info({ kind: 'actor-stop', actorId }, 'actor stopped');
    openFallback();
    logger.flush();
    // The IPC channel to `train` keeps the process alive: close it, or the launcher waits its
    // kill grace (5 s) and SIGKILLs an actor that had finished.
    process.off('disconnect', onLauncherGone);
    if (process.disconnect && process.connected) process.disconnect();
  },
};
