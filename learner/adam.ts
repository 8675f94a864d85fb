/**
 * Adam (Kingma & Ba 2015) on one flat parameter variable, with the learning rate passed per
 * step so that it can be annealed. Written out (a handful of tfjs ops) rather than using
 * tf.train.adam so that the state is explicit and the learning rate can change.
 */
import * as tf from '@tensorflow/tfjs';

export class FlatAdam {
  private readonly m: tf.Variable<tf.Rank.R1>;
  private readonly v: tf.Variable<tf.Rank.R1>;
  private t = 0;

  constructor(size: number, private readonly beta1 = 0.9, private readonly beta2 = 0.999, private readonly eps = 1e-5) {
    this.m = tf.variable(tf.zeros([size]), false) as tf.Variable<tf.Rank.R1>;
    this.v = tf.variable(tf.zeros([size]), false) as tf.Variable<tf.Rank.R1>;
  }

  /** Apply one step of gradient `grad` (already clipped and checked finite) to `param`. */
  step(param: tf.Variable<tf.Rank.R1>, grad: tf.Tensor1D, lr: number): void {
    this.t += 1;
    const { beta1: b1, beta2: b2, eps, t } = this;
    tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, b1), tf.mul(grad, 1 - b1));
      const v = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(grad), 1 - b2));
      this.m.assign(m as tf.Tensor1D);
      this.v.assign(v as tf.Tensor1D);
      const mHat = tf.div(m, 1 - b1 ** t);
      const vHat = tf.div(v, 1 - b2 ** t);
      param.assign(tf.sub(param, tf.mul(lr, tf.div(mHat, tf.add(tf.sqrt(vHat), eps)))) as tf.Tensor1D);
    });
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
