import type { ModelSpec } from '../../../model/spec.js';
import { forwardTrain, type Workspace } from '../../../model/grad.js';
import { finishBatch, gatherBatch, type Batch, type TrainingSegment } from '../../../learner/batch.js';
import type { LearnerConfig } from '../../../learner/config.js';

/**
 * A batch built as the learner builds one (learner/learner.ts): `gatherBatch`, the float64
 * forward pass of `params` over all its rows on `ws`, then `finishBatch`.
 */
export function buildBatch(spec: ModelSpec, params: Float64Array, segs: TrainingSegment[], cfg: LearnerConfig, ws: Workspace): Batch {
  const inp = gatherBatch(spec, segs);
  forwardTrain(spec, params, inp.allObs, inp.n + inp.nBoot + inp.nFinal, ws);
  return finishBatch(spec, segs, cfg, inp, ws.logits, ws.values, params);
}
