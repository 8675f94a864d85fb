/**
 * Evaluation worker thread (piscina): runs complete episodes of the given parameters, both
 * sampling actions (the policy as it is) and greedily (argmax; a Gaussian policy's mean). Used by the learner to judge the
 * current policy, never lagged; the learner only passes parameters in and an EvalStat out.
 */
import { evaluatePolicy } from './evaluate.js';
import { loadEnvModule } from './envs/registry.js';
import type { ModelSpec } from '../model/spec.js';
import type { EvalStat } from '../protocol/records.js';

export interface EvalTask {
  envId: string;
  /** A user env module (path) defining envId, loaded in this thread first. */
  envModule?: string | null;
  modelSpec: ModelSpec;
  params: Float32Array;
  episodes: number;
  seed: number;
  version: number;
}

export default async function evaluate(task: EvalTask): Promise<EvalStat> {
  if (task.envModule) await loadEnvModule(task.envModule);
  const base = { envId: task.envId, modelSpec: task.modelSpec, params: task.params, episodes: task.episodes };
  const stochastic = evaluatePolicy({ ...base, greedy: false, seed: task.seed });
  const greedy = evaluatePolicy({ ...base, greedy: true, seed: task.seed + 1 });
  return { stochastic: stochastic.meanReturn, greedy: greedy.meanReturn, episodes: task.episodes, version: task.version };
}
