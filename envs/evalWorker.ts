/**
 * Evaluation worker thread (piscina): runs complete episodes of the given parameters, both
 * sampling actions (the policy as it is) and greedily (argmax; a Gaussian policy's mean). Used by the learner to judge the
 * current policy, never lagged; the learner only passes parameters in and an EvalStat out.
 */
import { evaluatePolicy } from './evaluate.js';
import { isSeqEnv } from './seq.js';
import { prepareEnvThread } from './registry.js';
import type { ModelSpec } from '../model/spec.js';
import type { EvalStat } from './evaluate.js';

export interface EvalTask {
  envId: string;
  /** A user env module (path) defining envId, loaded in this thread first. */
  envModule?: string | null;
  modelSpec: ModelSpec;
  params: Float32Array;
  episodes: number;
  seed: number;
  version: number;
  /** The watchdog's cell (envs/watchdog.ts): this thread's env calls are marked in it. */
  beacon?: SharedArrayBuffer;
}

export default async function evaluate(task: EvalTask): Promise<EvalStat> {
  await prepareEnvThread(task);
  const base = { envId: task.envId, modelSpec: task.modelSpec, params: task.params, episodes: task.episodes };
  const stochastic = evaluatePolicy({ ...base, greedy: false, seed: task.seed });
  const greedy = evaluatePolicy({ ...base, greedy: true, seed: task.seed + 1 });
  const out: EvalStat = {
    stochastic: stochastic.meanReturn,
    greedy: greedy.meanReturn,
    episodes: task.episodes,
    version: task.version,
    envSteps: stochastic.steps + greedy.steps,
  };
  if (isSeqEnv(task.envId)) {
    // Sequence tasks: the return is the fraction of positions right, 1 exactly for a match.
    out.success = exactRate(stochastic.returns);
    out.greedySuccess = exactRate(greedy.returns);
  }
  return out;
}

/** Share of returns >= 1 (exact matches). */
function exactRate(returns: number[]): number {
  return returns.filter((r) => r >= 1 - 1e-9).length / returns.length;
}
