/**
 * The learner's tfjs forward pass over the same flat parameter vector as model/forward.ts.
 * Every weight is a slice of one Tensor1D, so the gradient with respect to a single flat
 * variable is one flat vector in the same layout (params.ts). Call inside tf.tidy / tf.grad.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from './spec.js';
import { layerOffsets, paramCount, type LayerSlice } from './params.js';

function mlpTf(layers: LayerSlice[], flat: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  for (const L of layers) {
    const W = tf.reshape(tf.slice(flat, [L.wOffset], [L.inDim * L.outDim]), [L.inDim, L.outDim]) as tf.Tensor2D;
    const b = tf.slice(flat, [L.bOffset], [L.outDim]);
    const z = tf.add(tf.matMul(h, W), b) as tf.Tensor2D;
    h = L.isOutput ? z : tf.tanh(z);
  }
  return h;
}

/**
 * Policy logits (n x nActions) and values (n) for obs (n x obsDim). Throws a RangeError when
 * `flat` does not have paramCount(spec) elements or obs has the wrong width.
 */
export function tfForward(spec: ModelSpec, flat: tf.Tensor1D, obs: tf.Tensor2D): { logits: tf.Tensor2D; value: tf.Tensor1D } {
  const count = paramCount(spec);
  if (flat.size !== count) throw new RangeError(`flat parameter vector has ${flat.size} elements, model spec needs ${count}`);
  if (obs.shape[1] !== spec.obsDim) throw new RangeError(`obs has width ${obs.shape[1]}, model spec obsDim is ${spec.obsDim}`);
  const layers = layerOffsets(spec);
  const logits = mlpTf(layers.filter((l) => l.net === 'policy'), flat, obs);
  const v = mlpTf(layers.filter((l) => l.net === 'value'), flat, obs);
  return { logits, value: tf.reshape(v, [-1]) as tf.Tensor1D };
}

/**
 * log pi(a_i | s_i) per row, as sum(logSoftmax(logits) * oneHot(actions)). Deliberately not
 * tf.gather: on the wasm backend gather with batch dims is wrong and has no gradient.
 * `actions` must be int32.
 */
export function logProbOf(logits: tf.Tensor2D, actions: tf.Tensor1D, nActions: number): tf.Tensor1D {
  const oneHot = tf.oneHot(actions, nActions);
  return tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1) as tf.Tensor1D;
}

/** Mean over rows of the entropy of softmax(logits), in nats. */
export function entropyOfTf(logits: tf.Tensor2D): tf.Scalar {
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), 1)));
}
