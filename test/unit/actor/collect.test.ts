import { describe, expect, it } from 'vitest';
import { SegmentCollector } from '../../../actor/collect.js';
import { policyLogits } from '../../../model/forward.js';
import { logSumExp } from '../../../model/distributions.js';
import { initParams } from '../../../model/params.js';

const spec = { obsDim: 4, nActions: 2, hidden: [16] };
const params = initParams(spec, 1);

describe('SegmentCollector', () => {
  it('returns time-major arrays of the right shapes', () => {
    const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 3, seed: 0, modelSpec: spec });
    const s = c.collect(params, 5);
    expect([s.T, s.E, s.obsDim]).toEqual([5, 3, 4]);
    expect(s.obs.length).toBe(5 * 3 * 4);
    expect(s.lastObs.length).toBe(3 * 4);
    for (const a of [s.actions, s.rewards, s.terminated, s.truncated, s.logmu]) expect(a.length).toBe(15);
    expect(s.finalObs.length).toBe(0);
    expect(s.episodeReturns.length).toBe(s.episodeLengths.length);
  });

  it('continues across calls: the next segment starts at the previous lastObs', () => {
    const c = new SegmentCollector({ envId: 'Acrobot-v1', numEnvs: 2, seed: 3, modelSpec: { obsDim: 6, nActions: 3, hidden: [8] } });
    const p = initParams({ obsDim: 6, nActions: 3, hidden: [8] }, 0);
    const a = c.collect(p, 4);
    const b = c.collect(p, 4);
    expect(b.obs.subarray(0, 2 * 6)).toEqual(a.lastObs);
    // Within a segment, obs[t+1] is the next obs of step t.
    expect(a.obs.subarray(2 * 6, 4 * 6)).not.toEqual(a.obs.subarray(0, 2 * 6));
  });

  it('auto-resets: episodes are recorded and finalObs rows match truncations', () => {
    const E = 4;
    const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: E, seed: 5, modelSpec: spec });
    let episodes = 0,
      truncations = 0,
      terminations = 0,
      lengthSum = 0,
      stepsSeen = 0;
    for (let k = 0; k < 6; k++) {
      const s = c.collect(params, 200);
      const nTrunc = s.truncated.reduce((a, b) => a + b, 0);
      expect(s.finalObs.length).toBe(nTrunc * 4);
      for (let i = 0; i < s.T * E; i++) expect(s.terminated[i] & s.truncated[i]).toBe(0);
      truncations += nTrunc;
      terminations += s.terminated.reduce((a, b) => a + b, 0);
      episodes += s.episodeReturns.length;
      s.episodeLengths.forEach((l, i) => {
        expect(s.episodeReturns[i]).toBe(l); // CartPole: reward 1 per step
        lengthSum += l;
      });
      stepsSeen += s.T * E;
    }
    expect(episodes).toBe(truncations + terminations);
    expect(terminations).toBeGreaterThan(10); // a near-uniform policy drops the pole often
    expect(lengthSum).toBeLessThanOrEqual(stepsSeen);
  });

  it('records the truncated final observation, not the reset one', () => {
    const E = 2;
    const c = new SegmentCollector({ envId: 'Acrobot-v1', numEnvs: E, seed: 1, modelSpec: { obsDim: 6, nActions: 3, hidden: [8] } });
    const p = new Float32Array(initParams({ obsDim: 6, nActions: 3, hidden: [8] }, 0).length); // uniform policy
    const s = c.collect(p, 501);
    const nTrunc = s.truncated.reduce((a, b) => a + b, 0);
    expect(nTrunc).toBeGreaterThan(0); // a uniform policy rarely swings up within 500 steps
    expect(s.finalObs.length).toBe(nTrunc * 6);
    let k = 0;
    for (let i = 0; i < s.T * E; i++) {
      if (s.truncated[i] !== 1) continue;
      const fin = s.finalObs.subarray(k * 6, (k + 1) * 6);
      k++;
      // The obs after a truncation is a reset obs (|velocities| <= 0.1); the final obs is the
      // real last state of the episode, not that reset obs.
      const next = i + E < s.T * E ? s.obs.subarray((i + E) * 6, (i + E + 1) * 6) : s.lastObs.subarray((i % E) * 6, ((i % E) + 1) * 6);
      expect(Math.abs(next[4])).toBeLessThanOrEqual(0.1);
      expect(Math.abs(next[5])).toBeLessThanOrEqual(0.1);
      expect(Array.from(fin)).not.toEqual(Array.from(next));
      expect(Math.hypot(fin[0], fin[1])).toBeCloseTo(1, 5);
    }
    expect(s.episodeLengths).toContain(500);
    expect(s.episodeReturns).toContain(-500);
  });

  it('same seed gives identical segments, another seed differs', () => {
    const mk = (seed: number) => new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 5, seed, modelSpec: spec });
    const a = mk(9),
      b = mk(9),
      c = mk(10);
    for (let k = 0; k < 2; k++) {
      const sa = a.collect(params, 50),
        sb = b.collect(params, 50),
        sc = c.collect(params, 50);
      expect(sb).toEqual(sa);
      expect(sc.obs).not.toEqual(sa.obs);
    }
  });

  it('logmu equals the JS log-prob of the taken actions', () => {
    const p = initParams(spec, 2).map((v, i) => v + 0.3 * Math.sin(i)); // a non-trivial policy
    const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed: 2, modelSpec: spec });
    const s = c.collect(p, 30);
    const logits = policyLogits(spec, p, s.obs, s.T * s.E);
    for (let i = 0; i < s.T * s.E; i++) expect(s.logmu[i]).toBeCloseTo(logits[2 * i + s.actions[i]] - logSumExp(logits, 2 * i, 2), 6);
  });

  it('rejects wrong params length, bad T and a spec that does not fit the env', () => {
    const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 1, seed: 0, modelSpec: spec });
    expect(() => c.collect(new Float32Array(3), 5)).toThrow(/params has 3 floats/);
    expect(() => c.collect(params, 0)).toThrow(RangeError);
    expect(() => new SegmentCollector({ envId: 'Acrobot-v1', numEnvs: 1, seed: 0, modelSpec: spec })).toThrow(/does not fit Acrobot-v1/);
    expect(() => new SegmentCollector({ envId: 'Pong-v5', numEnvs: 1, seed: 0, modelSpec: spec })).toThrow(
      /known ids: CartPole-v1, Acrobot-v1/,
    );
  });
});
