/** The finite-difference check of an analytic gradient, shared by the loss and backward-pass tests. */
import { expect } from 'vitest';

/**
 * Expect `grad` to match central differences of `f` at `params` (step 1e-6) within 1e-6 relative
 * (absolute below 1), parameter by parameter.
 */
export function expectFiniteDifferenceGradient(f: (p: Float64Array) => number, params: Float64Array, grad: ArrayLike<number>): void {
  const h = 1e-6;
  for (let i = 0; i < params.length; i++) {
    const p = params.slice();
    p[i] += h;
    const up = f(p);
    p[i] -= 2 * h;
    const fd = (up - f(p)) / (2 * h);
    expect(Math.abs(fd - grad[i]), `param ${i}: fd ${fd} analytic ${grad[i]}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
  }
}
