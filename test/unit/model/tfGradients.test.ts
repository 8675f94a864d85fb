/**
 * The gradient-registration trap of a tfjs-core install without the umbrella package: tfjs-core's
 * Node bundle registers no gradient functions, so tf.grad fails until something registers them;
 * model/backend.ts `initBackend` does (through tfjs-layers' bundle). Vitest runs each test file in
 * its own process, so nothing has registered them before this file.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';

const f = (x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(x), tf.logSoftmax(x)));

describe('tfjs gradients with tfjs-core alone', () => {
  it('tf.grad fails before initBackend and computes the right gradient after it', async () => {
    await tf.setBackend('cpu');
    expect(() => tf.grad(f)(tf.tensor1d([0.5, -1]))).toThrow(/gradient function not found/);
    await initBackend('cpu');
    const x = [0.5, -1];
    const g = tf.grad(f)(tf.tensor1d(x)).dataSync();
    // Central differences in float64 of the same function.
    const ref = (v: number[]) => {
      const m = Math.max(...v);
      const lse = m + Math.log(v.reduce((s, y) => s + Math.exp(y - m), 0));
      return v.reduce((s, y) => s + Math.tanh(y) * (y - lse), 0);
    };
    for (let i = 0; i < x.length; i++) {
      const h = 1e-6;
      const up = x.slice(),
        dn = x.slice();
      up[i] += h;
      dn[i] -= h;
      expect(g[i]).toBeCloseTo((ref(up) - ref(dn)) / (2 * h), 4);
    }
  });
});
