import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../../actor/evaluate.js';
import { initParams, layerOffsets } from '../../../model/params.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };

describe('evaluatePolicy', () => {
  it('runs exactly the requested episodes, reproducibly', () => {
    const params = initParams(spec, 0);
    const a = evaluatePolicy({ envId: 'CartPole-v1', modelSpec: spec, params, episodes: 7, greedy: false, seed: 1, numEnvs: 3 });
    const b = evaluatePolicy({ envId: 'CartPole-v1', modelSpec: spec, params, episodes: 7, greedy: false, seed: 1, numEnvs: 3 });
    expect(a.returns.length).toBe(7);
    expect(a).toEqual(b);
    expect(a.meanReturn).toBeCloseTo(a.returns.reduce((x, y) => x + y, 0) / 7, 12);
    for (const r of a.returns) expect(r >= 8 && r <= 500).toBe(true);
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
