import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { policyLogits, valuesOf } from '../../../model/forward.js';
import { entropyOf, entropyOfTf, logProbOf, logSumExp, sampleActions } from '../../../model/distributions.js';
import { initParams, paramCount } from '../../../model/params.js';
import { Rng } from '../../../model/rng.js';
import { tfForward } from '../../../model/tf.js';

const specs = [
  { obsDim: 4, nActions: 2, hidden: [64, 64] },
  { obsDim: 6, nActions: 3, hidden: [32, 16] },
];

/** CleanRL init plus noise, so logits are far from uniform. */
function randomParams(spec: (typeof specs)[number], seed: number): Float32Array {
  const p = initParams(spec, seed);
  const r = new Rng(seed + 100);
  for (let i = 0; i < p.length; i++) p[i] += Math.fround(0.2 * r.normal());
  return p;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`JS forward vs tfjs (${backend})`, () => {
    it('logits, values and log-probs agree to 1e-5', async () => {
      await initBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      for (const [si, spec] of specs.entries()) {
        const n = 257;
        const params = randomParams(spec, si + 1);
        const rng = new Rng(si + 50);
        const obs = Float32Array.from({ length: n * spec.obsDim }, () => 2 * rng.normal());
        const jsLogits = policyLogits(spec, params, obs, n);
        const jsValues = valuesOf(spec, params, obs, n);
        const actions = new Int32Array(n);
        const jsLogp = new Float32Array(n);
        sampleActions(jsLogits, n, spec.nActions, rng, actions, jsLogp);
        const [tfLogits, tfValues, tfLogp, tfEnt] = tf.tidy(() => {
          const out = tfForward(spec, tf.tensor1d(params), tf.tensor2d(obs, [n, spec.obsDim]));
          const lp = logProbOf(out.logits, tf.tensor1d(actions, 'int32'), spec.nActions);
          return [out.logits.dataSync(), out.value.dataSync(), lp.dataSync(), entropyOfTf(out.logits).dataSync()[0]] as const;
        });
        let spread = 0;
        for (let i = 0; i < jsLogits.length; i++) {
          expect(Math.abs(jsLogits[i] - tfLogits[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(jsLogits[i])));
        }
        for (let i = 0; i < n; i++) {
          expect(Math.abs(jsValues[i] - tfValues[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(jsValues[i])));
          expect(Math.abs(jsLogp[i] - tfLogp[i])).toBeLessThanOrEqual(1e-5);
          spread = Math.max(spread, -jsLogp[i]);
        }
        // The test is only meaningful if the policy is far from uniform somewhere.
        expect(spread).toBeGreaterThan(1);
        expect(Math.abs(entropyOf(jsLogits, n, spec.nActions) - tfEnt)).toBeLessThan(1e-5);
        // And the log-prob of every action, not just the sampled one.
        for (let a = 0; a < spec.nActions; a++) {
          const all = tf.tidy(() =>
            logProbOf(tf.tensor2d(jsLogits, [n, spec.nActions]), tf.fill([n], a, 'int32') as tf.Tensor1D, spec.nActions).dataSync(),
          );
          for (let i = 0; i < n; i++)
            expect(
              Math.abs(all[i] - (jsLogits[i * spec.nActions + a] - logSumExp(jsLogits, i * spec.nActions, spec.nActions))),
            ).toBeLessThanOrEqual(1e-5);
        }
      }
    });

    it('gradient through tfForward w.r.t. the flat vector is finite and non-zero', async () => {
      await initBackend(backend);
      const spec = specs[0];
      const params = randomParams(spec, 3);
      const n = 16;
      const rng = new Rng(1);
      const obs = tf.tensor2d(
        Float32Array.from({ length: n * 4 }, () => rng.normal()),
        [n, 4],
      );
      const actions = tf.tensor1d(
        Int32Array.from({ length: n }, (_, i) => i % 2),
        'int32',
      );
      const g = tf.grad((flat: tf.Tensor) => {
        const out = tfForward(spec, flat as tf.Tensor1D, obs);
        return tf.add(tf.mean(logProbOf(out.logits, actions, 2)), tf.mean(tf.square(out.value)));
      })(tf.tensor1d(params));
      const gv = g.dataSync();
      expect(gv.length).toBe(paramCount(spec));
      expect(gv.every(Number.isFinite)).toBe(true);
      expect(gv.some((v) => v !== 0)).toBe(true);
      // Both networks receive gradient: policy part (first layers) and value part (last bias).
      expect(gv[gv.length - 1]).not.toBe(0);
      expect(gv.subarray(0, 256).some((v) => v !== 0)).toBe(true);
      tf.dispose([g, obs, actions]);
    });
  });
}
