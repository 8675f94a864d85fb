/**
 * The learner process shell: binds the ZeroMQ ROUTER socket and wires the training loop
 * (learner/loop.ts) to it, to the wall clock and to the worker-thread evaluator. Everything the
 * learner decides lives in the loop and its parts (admission, schedule, stopPolicy, records,
 * publisher), which tests drive in-process with fakes.
 */
import type { Logger } from 'pino';
import { LearnerSocket } from '../protocol/transport.js';
import { envShape } from '../protocol/envs.js';
import type { SummaryRecord, UpdateRecord } from '../protocol/records.js';
import type { ModelSpec } from '../model/spec.js';
import { initParams, modelHash } from '../model/params.js';
import { activeBackend } from '../model/backend.js';
import { Learner } from './learner.js';
import { Evaluator } from './evaluator.js';
import { ParamPublisher } from './publisher.js';
import { TrainingLoop } from './loop.js';
import { wallClock } from '../protocol/clock.js';
import type { LearnerServerConfig } from './config.js';
import { statSync } from 'node:fs';
import path from 'node:path';
import { CheckpointStore } from './checkpoint.js';
import { codeVersion, fromCheckpoint, maxLoggedVersion, resumeVersion, toCheckpoint } from './runState.js';
import type { LoopCheckpointer, LoopResume } from './loop.js';

export interface LearnerServerOptions {
  cfg: LearnerServerConfig;
  bind: string;
  logger: Logger;
  /** Called with every update record (the launcher's progress line). */
  onUpdate?: (r: UpdateRecord) => void;
  /** Called once when the learner starts to stop (budget, target, signal). */
  onStopping?: (reason: string) => void;
  /** Checkpoints in `<runDir>/checkpoints/` (cfg.checkpointEvery, cfg.keepCheckpoints), holding `runConfig`; `resume` continues from the newest valid one. */
  durability?: { runDir: string; runConfig: object; resume: boolean };
}

/** Resuming is impossible (no valid checkpoint, another model): the message says why. */
export class ResumeError extends Error {
  override readonly name = 'ResumeError';
}

export class LearnerServer {
  private constructor(private readonly socket: LearnerSocket, private readonly loop: TrainingLoop) {}

  /** Bind and initialise; rejects when the address cannot be bound. */
  static async start(o: LearnerServerOptions): Promise<LearnerServer> {
    const c = o.cfg;
    const env = envShape(c.env);
    const spec: ModelSpec = { obsDim: env.obsDim, nActions: env.nActions, hidden: c.hidden };
    const socket = await LearnerSocket.bind(o.bind, { receiveHighWaterMark: 0 });
    const hash = modelHash(spec);
    const learner = new Learner(spec, c, initParams(spec, c.seed), c.seed);
    const d = o.durability;
    let checkpointer: LoopCheckpointer | undefined, resume: LoopResume | undefined;
    if (d) {
      const store = new CheckpointStore(path.join(d.runDir, 'checkpoints'), {
        keep: c.keepCheckpoints,
        onSkip: (file, reason) => o.logger.warn({ kind: 'checkpoint-skipped', file, reason }, 'checkpoint skipped: it does not verify'),
      });
      if (d.resume) resume = resumeFrom(store, learner, hash, path.join(d.runDir, 'learner.ndjson'));
      const code = codeVersion();
      checkpointer = {
        every: c.checkpointEvery,
        save: (loop, final) => {
          const file = store.save(toCheckpoint(learner.exportState(), {
            ...loop, final, modelHash: hash, codeVersion: code, config: d.runConfig as Record<string, unknown>, savedAt: new Date().toISOString(),
          }));
          return { file, bytes: statSync(file).size };
        },
      };
    }
    const loop = new TrainingLoop({
      cfg: c, spec, modelHash: hash, learner, checkpointer, resume,
      transport: socket, clock: wallClock,
      evaluator: new Evaluator(c.env, spec, c.seed),
      publisher: new ParamPublisher((peer, msg) => socket.send(peer, msg), hash, c.historyVersions),
      logger: o.logger, backend: activeBackend() ?? 'unknown', endpoint: socket.endpoint,
      onUpdate: o.onUpdate, onStopping: o.onStopping,
    });
    return new LearnerServer(socket, loop);
  }

  /** The bound endpoint, e.g. tcp://127.0.0.1:40123. */
  get endpoint(): string {
    return this.socket.endpoint;
  }

  /** Ask the loop to stop after the current update (SIGINT, SIGTERM). */
  stop(reason: string): void {
    this.loop.stop(reason);
  }

  /** Train until a stop condition; returns the summary record (also logged). */
  run(): Promise<SummaryRecord> {
    return this.loop.run();
  }
}

/** Restore `learner` from the newest valid checkpoint of `store`; the version continues past every version `log` mentions. */
function resumeFrom(store: CheckpointStore, learner: Learner, hash: number, log: string): LoopResume {
  const found = store.loadLatest();
  if (!found) throw new ResumeError(`--resume: no valid checkpoint in ${store.dir}; nothing to resume from (start a new run)`);
  const { learner: state, meta } = fromCheckpoint(found.checkpoint);
  if (meta.modelHash !== hash) throw new ResumeError(`--resume: ${found.file} holds a model with hash ${meta.modelHash}, the run's config gives ${hash}`);
  learner.importState(state);
  learner.version = resumeVersion(meta, maxLoggedVersion(log));
  return { state: meta, fromVersion: meta.version, file: found.file };
}
