/**
 * The actor's worker thread (piscina). Each pool has exactly one thread, pinned to one slot,
 * so the slot's environments persist in this thread across tasks (piscina has no task
 * affinity; a segment must continue the episodes of the previous one).
 * Task: collect one T-step segment with the given behaviour parameters; the result is packed
 * into one buffer and transferred (not copied) to the actor's main thread. A task naming an env
 * module loads it into this thread's registry first (registries are per thread). An env that
 * misbehaves (EnvRuntimeError: an observation of the wrong size, a NaN) fails the task with its
 * message; the actor then exits non-zero with it (nothing of that segment is sent).
 */
import { move } from 'piscina';
import { SegmentCollector, type BehaviourOptions } from './collect.js';
import { packSegment } from './segmentPack.js';
import type { ModelSpec } from '../model/spec.js';
import { prepareEnvThread } from '../envs/registry.js';

export interface CollectTask {
  envId: string;
  /** A user env module (path) defining envId, loaded in this thread before the first segment. */
  envModule?: string | null;
  numEnvs: number;
  /** Seed of this slot's environments and action sampling. */
  seed: number;
  modelSpec: ModelSpec;
  params: Float32Array;
  T: number;
  /** Groups and teacher of the sequence tasks (default: independent envs, all policy). */
  behaviour?: BehaviourOptions;
  /** The watchdog's cell (envs/watchdog.ts): this thread's env calls are marked in it. */
  beacon?: SharedArrayBuffer;
}

/** A task as it crosses to the thread: params null means the same as the previous task's (kept here). */
export type WorkerTask = Omit<CollectTask, 'params'> & { params: Float32Array | null };

let collector: SegmentCollector | null = null;
let key = '';
let params: Float32Array | null = null;

/** Collect one segment (packed, see segmentPack.ts); the first task creates the slot's environments. */
export default async function collect(task: WorkerTask): Promise<ReturnType<typeof move>> {
  const k = `${task.envId}/${task.numEnvs}/${task.seed}/${JSON.stringify(task.behaviour ?? null)}`;
  if (collector === null || key !== k) {
    await prepareEnvThread(task);
    collector = new SegmentCollector({
      envId: task.envId,
      numEnvs: task.numEnvs,
      seed: task.seed,
      modelSpec: task.modelSpec,
      ...(task.behaviour ? { behaviour: task.behaviour } : {}),
    });
    key = k;
  }
  if (task.params !== null) params = task.params;
  if (params === null) throw new Error('collect task without parameters, and none sent before');
  return move(packSegment(collector.collect(params, task.T)));
}
