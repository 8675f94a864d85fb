/** Public API of the off-policy correction: config, scalar and tensor weight forms, validation. */
export * from './config.js';
export { sigmoid, sech2, trustH, pWrong, weightOf, weightFromLogRatio, gammaEss, maxWH, LOG_RATIO_CLAMP } from './scalar.js';
export type { Weight } from './scalar.js';
export { policyLoss, stopGradient } from './tensor.js';
export type { PolicyLoss, PolicyLossOptions } from './tensor.js';
export { assertFiniteArray, assertFiniteTensor, assertFinite, assertRatio, checkObjectiveConfig, NonFiniteInputError } from './validate.js';
export type { ConfigProblem } from './validate.js';
