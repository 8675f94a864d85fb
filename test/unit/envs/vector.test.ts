import { describe, expect, it } from 'vitest';
import { envIds, envSpecOf, makeEnv } from '../../../envs/registry.js';
import { VectorEnv, type VectorStepOut } from '../../../envs/vector.js';
import { Rng } from '../../../model/rng.js';

function outFor(E: number, d: number): VectorStepOut {
  return {
    obs: new Float32Array(E * d),
    rewards: new Float32Array(E),
    terminated: new Uint8Array(E),
    truncated: new Uint8Array(E),
    finalObs: new Float32Array(E * d),
  };
}

describe('registry', () => {
  it('knows the built-in envs and names them for an unknown id', () => {
    expect(envIds().slice(0, 5)).toEqual(['CartPole-v1', 'Acrobot-v1', 'MountainCar-v0', 'MountainCarContinuous-v0', 'Pendulum-v1']);
    expect(makeEnv('Acrobot-v1').spec).toEqual({ id: 'Acrobot-v1', obsDim: 6, nActions: 3, maxEpisodeSteps: 500, rewardRange: [-1, 0] });
    expect(envSpecOf('CartPole-v1').obsDim).toBe(4);
    expect(() => makeEnv('toString')).toThrow(/unknown env id 'toString'; known ids: CartPole-v1, Acrobot-v1/);
  });
});

describe('VectorEnv', () => {
  it('steps in lockstep, auto-resets and tracks episode returns', () => {
    const E = 3;
    const v = new VectorEnv('CartPole-v1', E, new Rng(0));
    expect(() => v.step(new Int32Array(E), outFor(E, 4))).toThrow(/before reset/);
    v.reset();
    const out = outFor(E, 4);
    const actions = new Int32Array(E).fill(1); // always right: episodes end within ~10 steps
    let dones = 0;
    for (let t = 0; t < 60; t++) {
      v.step(actions, out);
      expect(out.obs).toEqual(v.obs);
      dones += out.terminated.reduce((a, b) => a + b, 0);
    }
    const eps = v.takeEpisodes();
    expect(eps.returns.length).toBe(dones);
    expect(eps.returns).toEqual(eps.lengths);
    expect(dones).toBeGreaterThan(E * 3);
    expect(v.takeEpisodes().returns.length).toBe(0);
  });

  it('gives each env its own reset stream', () => {
    const v = new VectorEnv('CartPole-v1', 2, new Rng(5));
    const o = v.reset();
    expect(o.subarray(0, 4)).not.toEqual(o.subarray(4, 8));
    const w = new VectorEnv('CartPole-v1', 2, new Rng(5));
    expect(w.reset()).toEqual(o);
  });
});
