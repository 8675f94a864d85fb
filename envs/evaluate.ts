/**
 * Policy evaluation: complete episodes with fixed parameters, batched over several envs with
 * one JS forward pass per step. Episodes are assigned round-robin to envs up front (env e runs
 * episodes e, e + numEnvs, ...), so short episodes are not over-represented.
 * The forward pass covers only the envs still running an episode (idle envs' rows are left
 * stale); actions are still drawn for all envs so the random stream, and so every return,
 * does not depend on which envs are idle.
 */
import type { ModelSpec } from '../model/spec.js';
import { policyLogits } from '../model/forward.js';
import { distributionOf } from '../model/distributions.js';
import { paramCount } from '../model/params.js';
import { Rng } from '../model/rng.js';
import { envSpecOf, makeManagedEnv } from './registry.js';
import { clipBoxAction } from './vector.js';

/** One evaluation's figures: mean returns of the current policy (never lagged) in both modes. */
export interface EvalStat {
  /** Mean return of the current policy, sampling actions. */
  stochastic: number;
  /** Mean return of the current policy, argmax actions. */
  greedy: number;
  episodes: number;
  /** Learner version evaluated. */
  version: number;
  /** Environment steps this evaluation took (both modes): not training steps. Absent in older logs. */
  envSteps?: number;
  /** Sequence tasks: exact-match rate of the sampled (stochastic) responses. */
  success?: number;
  /** Sequence tasks: exact-match rate of the greedy responses. */
  greedySuccess?: number;
}

export interface EvaluateOptions {
  envId: string;
  modelSpec: ModelSpec;
  params: Float32Array;
  /** Number of complete episodes to run. */
  episodes: number;
  /** Act greedily instead of sampling: argmax (discrete), the mean (Gaussian). */
  greedy: boolean;
  seed: number;
  /** Envs stepped in a batch (default min(episodes, 16)). */
  numEnvs?: number;
}

/** Run `episodes` complete episodes; returns their returns (in episode order), the mean and the env steps taken. */
export function evaluatePolicy(opts: EvaluateOptions): { meanReturn: number; returns: number[]; steps: number } {
  const { envId, modelSpec: spec, params, episodes, greedy } = opts;
  if (!Number.isInteger(episodes) || episodes < 1) throw new RangeError(`episodes must be a positive integer, got ${episodes}`);
  if (params.length !== paramCount(spec)) throw new RangeError(`params has ${params.length} floats, model spec needs ${paramCount(spec)}`);
  const E = Math.min(opts.numEnvs ?? 16, episodes);
  if (!Number.isInteger(E) || E < 1) throw new RangeError(`numEnvs must be a positive integer, got ${opts.numEnvs}`);
  const root = new Rng(opts.seed);
  const actionRng = root.fork(1);
  const es = envSpecOf(envId);
  const head = distributionOf(spec);
  if (es.obsDim !== spec.obsDim || es.nActions !== spec.nActions || head.box !== (es.actionKind === 'box')) {
    throw new RangeError(
      `model spec does not fit ${envId} (obsDim ${es.obsDim}, ${es.actionKind === 'box' ? 'box actions of dimension' : 'discrete actions'} ${es.nActions})`,
    );
  }
  const envs = Array.from({ length: E }, () => makeManagedEnv(envId));
  const space = envs[0].spec.action;
  const rngs = envs.map((_, e) => root.fork(0).fork(e));
  const d = es.obsDim;
  const obs = new Float32Array(E * d);
  const A = es.nActions;
  const logits = new Float32Array(E * A);
  const activeObs = new Float32Array(E * d);
  const activeLogits = new Float32Array(E * A);
  const activeEnvs = new Int32Array(E);
  const { actions, boxActions } = head.newActions(E);
  const clipped = new Float32Array(boxActions === undefined ? 0 : A);
  const logp = new Float32Array(E);
  const returns = new Array<number>(episodes).fill(0);
  const episodeOf = Array.from({ length: E }, (_, e) => e); // episode index run by env e, or >= episodes when idle
  let remaining = episodes;
  let steps = 0;
  envs.forEach((env, e) => obs.set(env.reset(rngs[e]), e * d));
  const p64 = Float64Array.from(params); // faster forward loop, same values
  while (remaining > 0) {
    let k = 0;
    for (let e = 0; e < E; e++) {
      if (episodeOf[e] >= episodes) continue;
      activeEnvs[k] = e;
      for (let i = 0; i < d; i++) activeObs[k * d + i] = obs[e * d + i];
      k++;
    }
    policyLogits(spec, p64, activeObs, k, activeLogits);
    for (let q = 0; q < k; q++) {
      const e = activeEnvs[q];
      for (let j = 0; j < A; j++) logits[e * A + j] = activeLogits[q * A + j];
    }
    head.sample(logits, E, p64, actionRng, boxActions ?? actions, logp, greedy);
    for (let e = 0; e < E; e++) {
      const ep = episodeOf[e];
      if (ep >= episodes) continue;
      const r = envs[e].step(space.type === 'box' && boxActions !== undefined ? clipBoxAction(space, boxActions, e, clipped) : actions[e]);
      steps++;
      returns[ep] += r.reward;
      let next = r.obs;
      if (r.terminated || r.truncated) {
        remaining--;
        episodeOf[e] = ep + E;
        if (ep + E < episodes) next = envs[e].reset(rngs[e]);
      }
      obs.set(next, e * d);
    }
  }
  return { meanReturn: returns.reduce((a, b) => a + b, 0) / episodes, returns, steps };
}
