/**
 * Benchmark: ms per loss-and-gradient call of the tfjs path (learner/loss.ts, on the backend
 * given as argv[2], default wasm) against the float64 path (learner/lossJs.ts) on its two kernel
 * builds, plain JS (model/gemm.ts) and WebAssembly SIMD (model/kernels.wat, the default), for
 * the CartPole-sized [64, 64] policy + value MLPs at minibatch sizes 64, 256 and 1024, and the
 * part of it that computes the weights g (`computeWeights`, shared by both paths). Prints the
 * figures and their ratios from the same run; asserts nothing.
 *   npx tsc -p . && node dist/bench/grad.js [wasm|cpu]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../model/backend.js';
import { Workspace } from '../model/grad.js';
import { initParams } from '../model/params.js';
import { Rng } from '../model/rng.js';
import type { ModelSpec } from '../model/spec.js';
import type { Batch } from '../learner/batch.js';
import type { LearnerConfig } from '../learner/config.js';
import { lossAndGrad } from '../learner/loss.js';
import { lossAndGradJs } from '../learner/lossJs.js';
import { DEFAULT_OBJECTIVE } from '../protocol/objectiveConfig.js';
import { computeWeights, WeightBatch } from '../learner/objectives/weights.js';

const backend = await initBackend((process.argv[2] ?? 'wasm') as 'wasm' | 'cpu');
const spec: ModelSpec = { obsDim: 4, nActions: 2, hidden: [64, 64] };
const method = (process.argv[3] ?? 'v5') as LearnerConfig['objective']['method'];
const cfg: LearnerConfig = {
  objective: { ...DEFAULT_OBJECTIVE, method },
  advantage: 'gae',
  normalizeAdvantages: true,
  discount: 0.99,
  lambda: 0.95,
  lr: 2.5e-4,
  annealLr: true,
  adamEps: 1e-5,
  epochs: 4,
  minibatches: 4,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  steps: 1,
  grad: 'js' as const,
};
const params32 = initParams(spec, 1);
const params64 = Float64Array.from(params32);
const paramsTf = tf.variable(tf.tensor1d(params32));

function batchOf(n: number): Batch {
  const rng = new Rng(n);
  return {
    n,
    obs: Float32Array.from({ length: n * spec.obsDim }, () => rng.normal()),
    actions: Int32Array.from({ length: n }, () => rng.int(spec.nActions)),
    logmu: Float32Array.from({ length: n }, () => -0.69 + 0.3 * rng.normal()),
    adv: Float32Array.from({ length: n }, () => rng.normal()),
    targets: Float32Array.from({ length: n }, () => rng.normal()),
    lag: new Int32Array(n),
    logRatio: new Float64Array(n),
    entropy: 0,
  };
}

/** Mean ms per call over about `budgetMs` of calls, after warm-up calls. */
function msPerCall(f: () => void, budgetMs = 1500): number {
  for (let i = 0; i < 5; i++) f();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < budgetMs || calls < 5) {
    f();
    calls++;
    t = performance.now();
  }
  return (t - t0) / calls;
}

console.log(`lossAndGrad, spec [${spec.hidden}] obs ${spec.obsDim} actions ${spec.nActions}, method ${method}; tfjs backend ${backend}`);
console.log('     n   tfjs ms  js-kernels ms  wasm-kernels ms   tfjs/wasm   js/wasm   weights ms');
const wsJs = new Workspace(spec, 1024, 'js');
const wsWasm = new Workspace(spec, 1024, 'wasm');
for (const n of [64, 256, 1024]) {
  const mb = batchOf(n);
  const tfMs = msPerCall(() => {
    const r = lossAndGrad(spec, cfg, paramsTf, mb);
    r.grad.dataSync(); // the learner reads the gradient back (norm, Adam)
    r.grad.dispose();
  });
  const jsMs = msPerCall(() => {
    lossAndGradJs(spec, cfg, params64, mb, wsJs);
  });
  const wasmMs = msPerCall(() => {
    lossAndGradJs(spec, cfg, params64, mb, wsWasm);
  });
  const lr = Float64Array.from({ length: n }, (_, i) => -mb.logmu[i] - 0.69);
  const wts = new WeightBatch(n);
  const wMs = msPerCall(() => {
    computeWeights(cfg.objective, lr, mb.adv, { out: wts });
  }, 300);
  console.log(
    `${String(n).padStart(6)} ${tfMs.toFixed(2).padStart(9)} ${jsMs.toFixed(3).padStart(14)} ${wasmMs.toFixed(3).padStart(16)} ${(tfMs / wasmMs).toFixed(1).padStart(11)} ${(jsMs / wasmMs).toFixed(2).padStart(9)} ${wMs.toFixed(4).padStart(12)}`,
  );
}
paramsTf.dispose();
