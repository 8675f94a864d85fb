/**
 * Public API of the off-policy correction: config, the one float64 implementation of the
 * gradient weights (batch form `computeWeights`, scalar form `weightOf`), validation. Loads no
 * tensor library.
 */
export * from '../../protocol/objectiveConfig.js';
export { LOG_RATIO_CLAMP, methodHasGamma, methodHasH, pWrong, sampleWeight, SampleWeight, sech2, sigmoid, trustH } from './kernel.js';
export { computeWeights, gammaEss, WeightBatch, type ComputeWeightsOptions } from './weights.js';
export { maxWH, weightFromLogRatio, weightOf, type Weight } from './scalar.js';
export { assertFiniteArray, assertFinite, assertRatio, checkObjectiveConfig, NonFiniteInputError, type ConfigProblem } from './validate.js';
