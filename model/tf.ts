/**
 * The tfjs forward pass over the same flat parameter vector as model/forward.ts: the autodiff
 * path of `--grad tfjs` (learner/loss.ts) and the test oracle of the JS forward and backward
 * passes. Every weight is a slice of one Tensor1D, so the gradient with respect to a single
 * flat variable is one flat vector in the same layout (params.ts). Needs `initBackend` first
 * (model/backend.ts loads tfjs); call inside tf.tidy / tf.grad. The heads' log-probabilities and
 * entropies over its output are model/distributions.ts (`logProbTf`, `entropyTf`).
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { ModelSpec } from './spec.js';
import { tfjs } from './backend.js';
import { layerOffsets, paramCount, type LayerSlice } from './params.js';

function mlpTf(tf: typeof TF, layers: LayerSlice[], flat: TF.Tensor1D, x: TF.Tensor2D): TF.Tensor2D {
  let h = x;
  for (const L of layers) {
    const W = tf.reshape(tf.slice(flat, [L.wOffset], [L.inDim * L.outDim]), [L.inDim, L.outDim]) as TF.Tensor2D;
    const b = tf.slice(flat, [L.bOffset], [L.outDim]);
    const z = tf.add(tf.matMul(h, W), b) as TF.Tensor2D;
    h = L.isOutput ? z : tf.tanh(z);
  }
  return h;
}

/**
 * Policy logits (n x nActions) and values (n) for obs (n x obsDim). Throws a RangeError when
 * `flat` does not have paramCount(spec) elements or obs has the wrong width.
 */
export function tfForward(spec: ModelSpec, flat: TF.Tensor1D, obs: TF.Tensor2D): { logits: TF.Tensor2D; value: TF.Tensor1D } {
  const tf = tfjs();
  const count = paramCount(spec);
  if (flat.size !== count) throw new RangeError(`flat parameter vector has ${flat.size} elements, model spec needs ${count}`);
  if (obs.shape[1] !== spec.obsDim) throw new RangeError(`obs has width ${obs.shape[1]}, model spec obsDim is ${spec.obsDim}`);
  const layers = layerOffsets(spec);
  const logits = mlpTf(
    tf,
    layers.filter((l) => l.net === 'policy'),
    flat,
    obs,
  );
  const v = mlpTf(
    tf,
    layers.filter((l) => l.net === 'value'),
    flat,
    obs,
  );
  return { logits, value: tf.reshape(v, [-1]) as TF.Tensor1D };
}
