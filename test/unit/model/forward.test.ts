import { describe, expect, it } from 'vitest';
import { policyLogits, valuesOf } from '../../../model/forward.js';
import { entropyOf, logSumExp, sampleActions } from '../../../model/distributions.js';
import { forwardTrain, Workspace } from '../../../model/grad.js';
import { initParams, layerOffsets } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';

describe('JS forward pass', () => {
  it('computes tanh MLPs as written out by hand', () => {
    const spec = { obsDim: 2, nActions: 2, hidden: [3] };
    const rng = new Rng(4);
    const p = initParams(spec, 1);
    for (let i = 0; i < p.length; i++) p[i] = Math.fround(rng.normal());
    const [l0, l1, v0, v1] = layerOffsets(spec);
    const x = [0.5, -1.5];
    const h = [0, 1, 2].map((j) => Math.tanh(p[l0.bOffset + j] + x[0] * p[l0.wOffset + j] + x[1] * p[l0.wOffset + 3 + j]));
    const logits = [0, 1].map((k) => p[l1.bOffset + k] + h.reduce((s, hj, j) => s + hj * p[l1.wOffset + j * 2 + k], 0));
    const hv = [0, 1, 2].map((j) => Math.tanh(p[v0.bOffset + j] + x[0] * p[v0.wOffset + j] + x[1] * p[v0.wOffset + 3 + j]));
    const v = p[v1.bOffset] + hv.reduce((s, hj, j) => s + hj * p[v1.wOffset + j], 0);
    const obs = Float32Array.from([...x, ...x]);
    const got = policyLogits(spec, p, obs, 2);
    [0, 1, 2, 3].forEach((i) => expect(got[i]).toBeCloseTo(logits[i % 2], 6));
    const vals = valuesOf(spec, p, obs, 2, new Float32Array(2));
    expect(vals[0]).toBeCloseTo(v, 6);
    expect(vals[1]).toBe(vals[0]);
    expect(() => policyLogits(spec, p, obs, 3)).toThrow(RangeError);
  });

  it('gives identical results from a float64 copy of the parameters', () => {
    const spec = { obsDim: 6, nActions: 3, hidden: [64, 64] };
    const p = initParams(spec, 3).map((v, i) => v + 0.1 * Math.cos(i));
    const rng = new Rng(8);
    const obs = Float32Array.from({ length: 5 * 6 }, () => rng.normal());
    expect(policyLogits(spec, Float64Array.from(p), obs, 5)).toEqual(policyLogits(spec, p, obs, 5));
    expect(valuesOf(spec, Float64Array.from(p), obs, 5)).toEqual(valuesOf(spec, p, obs, 5));
  });

  it('a row gives the same bits alone as inside a batch (row pairs and the odd last row)', () => {
    const spec = { obsDim: 5, nActions: 3, hidden: [7, 9] }; // odd widths exercise the tails
    const p = initParams(spec, 4).map((v, i) => v + 0.2 * Math.sin(i));
    const rng = new Rng(9);
    const n = 5;
    const obs = Float32Array.from({ length: n * 5 }, () => rng.normal());
    const batch = policyLogits(spec, p, obs, n);
    const vBatch = valuesOf(spec, p, obs, n);
    for (let r = 0; r < n; r++) {
      expect(policyLogits(spec, p, obs.subarray(r * 5, r * 5 + 5), 1)).toEqual(batch.subarray(r * 3, r * 3 + 3));
      expect(valuesOf(spec, p, obs.subarray(r * 5, r * 5 + 5), 1)[0]).toBe(vBatch[r]);
    }
  });
});

describe('one forward pass: actors and the learner run the same layers', () => {
  const cases = [
    { obsDim: 5, nActions: 3, hidden: [7, 9] }, // odd widths exercise the kernels' clamped edge tiles
    { obsDim: 4, nActions: 2, hidden: [64, 64] },
    { obsDim: 6, nActions: 3, hidden: [] },
  ];

  it('policyLogits / valuesOf equal the learner Workspace forward (JS kernels) to float32 rounding of the same float64 numbers', () => {
    for (const spec of cases) {
      const p64 = Float64Array.from(initParams(spec, 5).map((v, i) => v + 0.3 * Math.sin(i)));
      const rng = new Rng(10);
      const ws = new Workspace(spec, 1, 'js');
      for (const n of [1, 2, 5, 16, 17]) {
        const obs = Float32Array.from({ length: n * spec.obsDim }, () => 2 * rng.normal());
        forwardTrain(spec, p64, obs, n, ws);
        expect(Array.from(policyLogits(spec, p64, obs, n))).toEqual(Array.from(ws.logits.subarray(0, n * spec.nActions), Math.fround));
        expect(Array.from(valuesOf(spec, p64, obs, n))).toEqual(Array.from(ws.values.subarray(0, n), Math.fround));
      }
    }
  });

  it('rejects a parameter vector of the wrong length, naming both lengths', () => {
    const spec = cases[0];
    const p = initParams(spec, 1);
    expect(() => policyLogits(spec, p.subarray(1), new Float32Array(5), 1)).toThrow(
      `params has ${p.length - 1} floats, model spec needs ${p.length}`,
    );
  });
});

describe('logSumExp (the one log-softmax normaliser)', () => {
  it('is log sum exp of the row, stable for large logits, NaN for a NaN or infinite row', () => {
    const x = Float64Array.from([9, 0.3, -1.2, 1.1, 0.0, 9]);
    expect(logSumExp(x, 1, 4)).toBeCloseTo(Math.log(Math.exp(0.3) + Math.exp(-1.2) + Math.exp(1.1) + 1), 14);
    expect(logSumExp(Float32Array.from([1000, 1000]), 0, 2)).toBeCloseTo(1000 + Math.log(2), 12);
    expect(logSumExp(Float64Array.from([0, NaN]), 0, 2)).toBeNaN();
    expect(logSumExp(Float64Array.from([0, Infinity]), 0, 2)).toBeNaN();
  });
});

describe('sampling', () => {
  const logits = Float32Array.from([0.3, -1.2, 1.1, 0.0]);
  const probs = Array.from(logits.subarray(0, 4), (x) => Math.exp(x - logSumExp(logits, 0, 4)));

  it('empirical frequencies over 20k draws match softmax within 0.02, logp = log-softmax', () => {
    const n = 20_000;
    const rep = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) rep.set(logits, i * 4);
    const actions = new Int32Array(n);
    const logp = new Float32Array(n);
    sampleActions(rep, n, 4, new Rng(11), actions, logp);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      counts[actions[i]]++;
      expect(logp[i]).toBeCloseTo(Math.log(probs[actions[i]]), 6);
    }
    counts.forEach((c, k) => expect(Math.abs(c / n - probs[k])).toBeLessThan(0.02));
  });

  it('greedy picks the argmax', () => {
    const actions = new Int32Array(2);
    const logp = new Float32Array(2);
    sampleActions(Float32Array.from([...logits, 5, 1, 2, 3]), 2, 4, new Rng(0), actions, logp, true);
    expect(Array.from(actions)).toEqual([2, 0]);
    expect(logp[0]).toBeCloseTo(Math.log(probs[2]), 6);
  });

  it('handles extreme logits without NaN', () => {
    const actions = new Int32Array(1);
    const logp = new Float32Array(1);
    sampleActions(Float32Array.from([1000, -1000]), 1, 2, new Rng(0), actions, logp);
    expect(actions[0]).toBe(0);
    expect(logp[0]).toBe(0);
  });

  it('entropyOf is the mean softmax entropy', () => {
    const uniform = new Float32Array(6); // two rows of three equal logits
    expect(entropyOf(uniform, 2, 3)).toBeCloseTo(Math.log(3), 12);
    expect(entropyOf(logits, 1, 4)).toBeCloseTo(-probs.reduce((s, p) => s + p * Math.log(p), 0), 6);
  });
});
