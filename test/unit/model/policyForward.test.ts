import { describe, expect, it } from 'vitest';
import { policyLogits } from '../../../model/forward.js';
import { PolicyForward } from '../../../model/policyForward.js';
import { initParams } from '../../../model/params.js';
import { wasmKernelsAvailable } from '../../../model/gemmWasm.js';
import { Rng } from '../../../model/rng.js';
import type { ModelSpec } from '../../../model/spec.js';

const SPEC: ModelSpec = { obsDim: 4, nActions: 3, hidden: [16, 8] };

function randomObs(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * SPEC.obsDim }, () => 4 * r.uniform() - 2);
}

describe('PolicyForward (the actor and the verifier share it)', () => {
  const params = initParams(SPEC, 3);

  it('gives the plain-JS policy logits to float32 rounding (within a few ulp of tanh)', () => {
    expect(wasmKernelsAvailable()).toBe(true);
    const n = 37;
    const obs = randomObs(n, 1);
    const want = policyLogits(SPEC, params, obs, n);
    const f = new PolicyForward(SPEC, 4); // grows to 37 rows
    f.load(params);
    const got = f.logits(obs, n, new Float32Array(n * SPEC.nActions));
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i])));
  });

  it('selects rows by index and keeps its parameters when its buffers grow', () => {
    const obs = randomObs(50, 2);
    const f = new PolicyForward(SPEC, 2);
    f.load(params);
    const small = f.logits(obs, 2, new Float32Array(2 * SPEC.nActions)).slice();
    const idx = Int32Array.from([49, 0, 1, 17]);
    const picked = f.logits(obs, idx.length, new Float32Array(idx.length * SPEC.nActions), idx); // grows past 2 rows
    const each = (row: number) => f.logits(obs.subarray(row * SPEC.obsDim), 1, new Float32Array(SPEC.nActions));
    for (let j = 0; j < idx.length; j++) expect(Array.from(picked.subarray(j * 3, j * 3 + 3))).toEqual(Array.from(each(idx[j])));
    expect(Array.from(picked.subarray(3, 9))).toEqual(Array.from(small));
  });

  it('uses the newest loaded parameters and refuses a wrong-size vector or no parameters', () => {
    const obs = randomObs(3, 3);
    const f = new PolicyForward(SPEC, 3);
    expect(() => f.logits(obs, 3, new Float32Array(9))).toThrow(/no parameters loaded/);
    f.load(params);
    const a = f.logits(obs, 3, new Float32Array(9)).slice();
    f.load(initParams(SPEC, 4));
    const b = f.logits(obs, 3, new Float32Array(9));
    expect(Array.from(b)).not.toEqual(Array.from(a));
    expect(() => f.load(new Float32Array(5))).toThrow(/params has 5 floats/);
  });
});
