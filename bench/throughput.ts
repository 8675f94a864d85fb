/**
 * Actor-only and learner-only throughput, in env steps per second, without any transport:
 * - actor-only: W piscina pools of one thread each running the real actor/worker.js collect
 *   task (as actor/actor.ts does), all with the same fixed parameters, collecting at once;
 * - learner-only: Learner.update (learner threads as configured) on segments collected once in-process, with a given config.
 */
import { Piscina } from 'piscina';
import { workerFile } from '../infra/workerFile.js';
import type { CollectTask } from '../actor/worker.js';
import { SegmentCollector } from '../actor/collect.js';
import { Learner } from '../learner/learner.js';
import type { TrainingSegment } from '../learner/batch.js';
import type { LearnerConfig } from '../learner/config.js';
import { MsgType } from '../protocol/messages.js';
import { initParams } from '../model/params.js';
import type { ModelSpec } from '../model/spec.js';
import { timed } from './results.js';

export const CARTPOLE_SPEC: ModelSpec = { obsDim: 4, nActions: 2, hidden: [64, 64] };

export interface FpsResult {
  fps: number;
  /** Collect tasks or learner updates timed. */
  calls: number;
  seconds: number;
}

/** Env steps/s of `workers` one-thread pools collecting T x E CartPole segments for about `ms`. */
export async function actorOnlyFps(workers: number, T: number, E: number, ms: number): Promise<FpsResult> {
  const filename = workerFile('actor', 'worker');
  const params = initParams(CARTPOLE_SPEC, 0);
  const pools = Array.from(
    { length: workers },
    () => new Piscina<CollectTask, Uint8Array>({ filename, minThreads: 1, maxThreads: 1, idleTimeout: Infinity }),
  );
  const task = (w: number): CollectTask => ({ envId: 'CartPole-v1', numEnvs: E, seed: 1000 + w, modelSpec: CARTPOLE_SPEC, params, T });
  try {
    // Warm-up: thread start, env creation, JIT.
    await Promise.all(
      pools.map(async (p, w) => {
        for (let i = 0; i < 20; i++) await p.run(task(w));
      }),
    );
    const runs = await Promise.all(pools.map((p, w) => timed(() => p.run(task(w)), ms)));
    const steps = runs.reduce((s, r) => s + r.calls * T * E, 0);
    const seconds = Math.max(...runs.map((r) => r.seconds));
    return { fps: steps / seconds, calls: runs.reduce((s, r) => s + r.calls, 0), seconds };
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
  }
}

/** `count` on-policy training segments (lag 0) collected in-process with the initial parameters. */
export function makeSegments(
  params: Float32Array,
  count: number,
  T: number,
  E: number,
  spec: ModelSpec = CARTPOLE_SPEC,
): TrainingSegment[] {
  const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: E, seed: 7, modelSpec: spec });
  return Array.from({ length: count }, (_, j) => ({
    lag: 0,
    msg: { type: MsgType.Rollout, actorId: 0, seq: j, workerId: 0, behaviourVersion: 0, ...c.collect(params, T) },
  }));
}

/**
 * Env steps/s of Learner.update with `cfg` over batches of `perUpdate` of `segs` (cycled), for
 * about `ms` after two warm-up updates. The tfjs backend must be initialised by the caller.
 */
export async function learnerOnlyFps(
  cfg: LearnerConfig,
  params: Float32Array,
  segs: TrainingSegment[],
  perUpdate: number,
  ms: number,
): Promise<FpsResult> {
  const learner = new Learner(CARTPOLE_SPEC, cfg, params, 1);
  let j = 0,
    envSteps = 0;
  const update = async () => {
    const batch = Array.from({ length: perUpdate }, () => segs[j++ % segs.length]!);
    const s = await learner.update(batch, envSteps);
    envSteps += s.samples;
    return s.samples;
  };
  try {
    await update();
    await update();
    const samples = await update();
    const r = await timed(update, ms, 3);
    return { fps: (r.calls * samples) / r.seconds, calls: r.calls, seconds: r.seconds };
  } finally {
    await learner.dispose();
  }
}
