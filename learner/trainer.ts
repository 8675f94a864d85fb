/**
 * The learner on its own thread (`--trainer-thread`, on by default with `--grad js`): the
 * Learner lives in a pinned worker (learner/trainerThread.ts, infra/pinnedWorker.ts) and this
 * class is its stand-in on the main thread, with the loop's TrainableLearner calls. While an
 * update runs there, the main thread's event loop keeps going: the control plane receives,
 * decodes, validates and verifies the next rollouts, answers hellos and heartbeats, and the
 * next batch is complete when the update ends. The update itself is the same code with the
 * same inputs, so a run is the same with or without the thread (tested, and `--deterministic`
 * stays deterministic).
 *
 * A batch crosses to the thread as a structured clone of its rollouts' arrays (each copied at
 * its own length, a few KB per rollout at the usual settings); the update's stats and the new
 * float32 parameters come back the same way. Checkpoints and resume use synchronous requests
 * (the thread is idle between updates: the loop checkpoints only then).
 */
import type { ModelSpec } from '../model/spec.js';
import type { RolloutMsg } from '../protocol/messages.js';
import { PinnedWorker } from '../infra/pinnedWorker.js';
import { workerFile } from '../infra/workerFile.js';
import type { LearnerConfig } from './config.js';
import type { LearnerState, UpdateStats } from './learner.js';
import type { TrainingSegment } from './batch.js';
import type { TrainableLearner } from './ports.js';

/** Requests to the trainer thread. */
export const TrainerOp = { Update: 0, Export: 1, Import: 2, SetVersion: 3, Dispose: 4 } as const;

/** What the trainer thread is started with. */
export interface TrainerInit {
  spec: ModelSpec;
  cfg: LearnerConfig;
  params: Float32Array;
  seed: number;
}

/** One update's inputs. */
export interface TrainerUpdate {
  segs: TrainingSegment[];
  envSteps: number;
}

/** One update's answer. */
export interface UpdateReply {
  stats: UpdateStats;
  version: number;
  params: Float32Array;
}

/** `a` alone: a view into a larger buffer (a decoded message) is copied, so the clone carries only its bytes. */
function own<A extends { byteLength: number; buffer: ArrayBufferLike; slice(): A }>(a: A): A {
  return a.byteLength === a.buffer.byteLength ? a : a.slice();
}

/** A rollout with each array on its own buffer. */
function compact(m: RolloutMsg): RolloutMsg {
  return {
    ...m,
    obs: own(m.obs),
    lastObs: own(m.lastObs),
    actions: own(m.actions),
    ...(m.boxActions ? { boxActions: own(m.boxActions) } : {}),
    rewards: own(m.rewards),
    terminated: own(m.terminated),
    truncated: own(m.truncated),
    finalObs: own(m.finalObs),
    logmu: own(m.logmu),
    episodeReturns: own(m.episodeReturns),
    episodeLengths: own(m.episodeLengths),
    ...(m.source ? { source: own(m.source) } : {}),
  };
}

export class TrainerThread implements TrainableLearner {
  private readonly worker: PinnedWorker;
  private params: Float32Array;
  private v = 0;

  constructor(spec: ModelSpec, cfg: LearnerConfig, initial: Float32Array, seed: number) {
    this.worker = new PinnedWorker(workerFile('learner', 'trainerThread'), { spec, cfg, params: initial, seed } satisfies TrainerInit, {
      name: 'learner trainer thread',
    });
    this.params = Float32Array.from(initial);
  }

  get version(): number {
    return this.v;
  }

  /** Set the version (resume): the thread's learner continues from it. */
  set version(v: number) {
    this.callSync(TrainerOp.SetVersion, { version: v });
    this.v = v;
  }

  async update(segs: TrainingSegment[], envSteps: number): Promise<UpdateStats> {
    const msg: TrainerUpdate = { segs: segs.map((s) => ({ msg: compact(s.msg), lag: s.lag })), envSteps };
    const r = (await this.worker.call(TrainerOp.Update, msg)) as UpdateReply;
    this.v = r.version;
    this.params = r.params;
    return r.stats;
  }

  /** The current parameters, float32 (a copy: callers may keep it). */
  paramsArray(): Float32Array {
    return this.params.slice();
  }

  /** The learner's resumable state (a synchronous request: call between updates). */
  exportState(): LearnerState {
    return this.callSync(TrainerOp.Export) as LearnerState;
  }

  /** Continue from `exportState()`'s result (synchronous, between updates). */
  importState(s: LearnerState): void {
    this.params = this.callSync(TrainerOp.Import, s) as Float32Array;
    this.v = s.version;
  }

  async dispose(): Promise<void> {
    try {
      if (this.worker.failure === null) await this.worker.call(TrainerOp.Dispose, {});
    } finally {
      await this.worker.close();
    }
  }

  /** A request answered before this returns (the main thread blocks meanwhile). */
  private callSync(op: number, msg: unknown = {}): unknown {
    this.worker.send(msg);
    this.worker.start(op);
    while (!this.worker.waitSync(1000)) {
      if (this.worker.failure !== null) break;
    }
    return this.worker.finish();
  }
}
