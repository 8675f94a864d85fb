/**
 * Adam (Kingma & Ba 2015) on one flat float64 parameter vector, with the learning rate passed
 * per step so that it can be annealed. Plain JavaScript: the state is explicit, the update is
 * exactly reproducible, and no tensor is read back per step.
 */
export class FlatAdam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(
    size: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-5,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Apply one step of `grad` times `scale` (gradient clipping) to `param` in place. */
  step(param: Float64Array, grad: ArrayLike<number>, lr: number, scale = 1): void {
    this.t += 1;
    const { beta1: b1, beta2: b2, eps, m, v } = this;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] * scale;
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      param[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
  }

  /** The optimiser state (copies): first and second moments and the step count. */
  exportState(): AdamState {
    return { m: Float64Array.from(this.m), v: Float64Array.from(this.v), t: this.t };
  }

  /** Restore `exportState()`'s result; throws when the sizes differ. */
  importState(s: AdamState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new RangeError(
        `Adam state has ${s.m.length}/${s.v.length} moments, this optimiser ${this.m.length}: the checkpoint is of another model`,
      );
    }
    if (!Number.isInteger(s.t) || s.t < 0) throw new RangeError(`Adam step count must be an integer >= 0, got ${s.t}`);
    this.m.set(s.m);
    this.v.set(s.v);
    this.t = s.t;
  }
}

/** FlatAdam's state: moments and step count. */
export interface AdamState {
  m: Float64Array;
  v: Float64Array;
  t: number;
}
