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
 * A batch crosses to the thread by transfer: each rollout's arrays copied once into a buffer of
 * their own (`compactRollout`). The update's stats and the new float32 parameters come back
 * as a structured clone. Checkpoints and resume use synchronous requests
 * (the thread is idle between updates: the loop checkpoints only then).
 */
import type { ModelSpec } from '../model/spec.js';
import { ROLLOUT_ARRAY_KEYS, type RolloutMsg } from '../protocol/messages.js';
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

type ArrayKey = (typeof ROLLOUT_ARRAY_KEYS)[number];
type RolloutArray = Float32Array | Int32Array | Uint8Array;
type ArrayCtor = new (b: ArrayBuffer, byteOffset: number, length: number) => RolloutArray;

/**
 * A rollout whose arrays own their bytes, on buffers pushed to `transfer` (they cross to the
 * thread by transfer, not by copy). A decoded message's arrays lie together in one frame
 * (protocol v4 frame runs): their span is copied once, on a boundary of 8 so every view keeps
 * its alignment. Arrays on different buffers, or spread thinly over a big one, are copied one
 * by one. Before: one copy per array (12 buffers a rollout), then a structured clone of each.
 */
export function compactRollout(m: RolloutMsg, transfer: ArrayBuffer[]): RolloutMsg {
  const present = ROLLOUT_ARRAY_KEYS.filter((k) => m[k] !== undefined);
  const arrays = present.map((k) => m[k] as RolloutArray);
  const out: RolloutMsg = { ...m };
  const set = (k: ArrayKey, a: RolloutArray) => ((out as unknown as Record<ArrayKey, RolloutArray>)[k] = a);
  const buf = arrays[0]?.buffer;
  let lo = Infinity,
    hi = 0,
    bytes = 0;
  for (const a of arrays) {
    lo = Math.min(lo, a.byteOffset);
    hi = Math.max(hi, a.byteOffset + a.byteLength);
    bytes += a.byteLength;
  }
  lo = 8 * Math.floor(lo / 8);
  if (buf !== undefined && arrays.every((a) => a.buffer === buf) && hi - lo <= 2 * bytes + 256) {
    const copy = new ArrayBuffer(hi - lo);
    new Uint8Array(copy).set(new Uint8Array(buf, lo, hi - lo));
    transfer.push(copy);
    present.forEach((k, i) => set(k, new (arrays[i].constructor as ArrayCtor)(copy, arrays[i].byteOffset - lo, arrays[i].length)));
    return out;
  }
  present.forEach((k, i) => {
    const a = arrays[i].slice();
    transfer.push(a.buffer as ArrayBuffer);
    set(k, a);
  });
  return out;
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
    const transfer: ArrayBuffer[] = [];
    const msg: TrainerUpdate = { segs: segs.map((s) => ({ msg: compactRollout(s.msg, transfer), lag: s.lag })), envSteps };
    this.worker.send(msg, transfer);
    const r = (await this.worker.call(TrainerOp.Update)) as UpdateReply;
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
