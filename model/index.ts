/**
 * Public API of model/: specs, flat-vector layout and init, JS and tfjs forward passes, RNG.
 * Importing this index loads tfjs; actor threads import forward.js / params.js / rng.js
 * directly so that they never load it.
 */
export type { EnvSpec, ModelSpec } from './spec.js';
export { Rng, type RngState } from './rng.js';
export { fnv1a32 } from './hash.js';
export { LAYOUT_VERSION, checkModelSpec, initParams, layerOffsets, modelHash, orthogonal, paramCount, type LayerSlice } from './params.js';
export { entropyOf, logSoftmaxRow, policyLogits, sampleActions, valuesOf, type ParamVector } from './forward.js';
export { entropyOfTf, logProbOf, tfForward } from './tf.js';
export { BACKEND_CHOICES, activeBackend, initBackend, type BackendChoice } from './backend.js';
