import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../envs/evaluate.js';
import { makeEnv } from '../../../envs/registry.js';
import { policyLogits } from '../../../model/forward.js';
import { sampleActions } from '../../../model/distributions.js';
import { initParams, layerOffsets } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };

/** The straightforward evaluation loop: policyLogits over every env, idle ones included. */
function referenceReturns(
  envId: string,
  hidden: number[],
  params: Float32Array,
  episodes: number,
  greedy: boolean,
  seed: number,
  E: number,
): number[] {
  const envs = Array.from({ length: E }, () => makeEnv(envId));
  const { obsDim: d, nActions: A } = envs[0].spec;
  const ms = { obsDim: d, nActions: A, hidden };
  const root = new Rng(seed);
  const actionRng = root.fork(1);
  const rngs = envs.map((_, e) => root.fork(0).fork(e));
  const obs = new Float32Array(E * d);
  const actions = new Int32Array(E);
  const logp = new Float32Array(E);
  const returns = new Array<number>(episodes).fill(0);
  const episodeOf = envs.map((_, e) => e);
  let remaining = episodes;
  envs.forEach((env, e) => obs.set(env.reset(rngs[e]), e * d));
  while (remaining > 0) {
    sampleActions(policyLogits(ms, params, obs, E), E, A, actionRng, actions, logp, greedy);
    for (let e = 0; e < E; e++) {
      const ep = episodeOf[e];
      if (ep >= episodes) continue;
      const r = envs[e].step(actions[e]);
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
  return returns;
}

describe('evaluatePolicy', () => {
  it('runs exactly the requested episodes, reproducibly', () => {
    const params = initParams(spec, 0);
    const a = evaluatePolicy({ envId: 'CartPole-v1', modelSpec: spec, params, episodes: 7, greedy: false, seed: 1, numEnvs: 3 });
    const b = evaluatePolicy({ envId: 'CartPole-v1', modelSpec: spec, params, episodes: 7, greedy: false, seed: 1, numEnvs: 3 });
    expect(a.returns.length).toBe(7);
    expect(a).toEqual(b);
    expect(a.meanReturn).toBeCloseTo(a.returns.reduce((x, y) => x + y, 0) / 7, 12);
    for (const r of a.returns) expect(r >= 8 && r <= 500).toBe(true);
    // CartPole pays 1 per step: the env steps taken are the sum of the returns.
    expect(a.steps).toBe(a.returns.reduce((x, y) => x + y, 0));
  });

  it('returns what the plain loop over all envs returns (forward only over running envs)', () => {
    for (const [envId, hidden, episodes] of [
      ['CartPole-v1', [16, 8], 23],
      ['Acrobot-v1', [9], 5],
    ] as const) {
      const probe = makeEnv(envId).spec;
      const ms = { obsDim: probe.obsDim, nActions: probe.nActions, hidden: [...hidden] };
      const params = initParams(ms, 3).map((v, i) => v + 0.4 * Math.sin(i));
      for (const greedy of [false, true]) {
        for (const numEnvs of [1, 4, 16]) {
          const got = evaluatePolicy({ envId, modelSpec: ms, params, episodes, greedy, seed: 5, numEnvs });
          expect(got.returns).toEqual(referenceReturns(envId, [...hidden], params, episodes, greedy, 5, Math.min(numEnvs, episodes)));
        }
      }
    }
  });

  it('a hand-made balancing policy scores higher than always-left', () => {
    // Policy with no hidden layer: logits = obs W + b; push right when the pole leans/falls right.
    const lin = { obsDim: 4, nActions: 2, hidden: [] };
    const L = layerOffsets(lin)[0];
    const good = new Float32Array(initParams(lin, 0).length);
    good[L.wOffset + 2 * 2 + 1] = 100; // theta -> action 1 logit
    good[L.wOffset + 3 * 2 + 1] = 100; // theta_dot -> action 1 logit
    const left = new Float32Array(good.length);
    left[L.bOffset] = 100;
    const g = evaluatePolicy({ envId: 'CartPole-v1', modelSpec: lin, params: good, episodes: 4, greedy: true, seed: 2 });
    const l = evaluatePolicy({ envId: 'CartPole-v1', modelSpec: lin, params: left, episodes: 4, greedy: true, seed: 2 });
    expect(l.meanReturn).toBeLessThan(20);
    expect(g.meanReturn).toBeGreaterThan(100);
  });
});
