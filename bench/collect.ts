/**
 * Actor-side throughput in one thread: CartPole-v1 env-steps/s of SegmentCollector.collect
 * for E = 8, 32, 128 with hidden [64, 64], and the JS forward pass alone per env-step.
 * Run: npx tsc -p . && node dist/bench/collect.js
 */
import { SegmentCollector } from '../actor/collect.js';
import { policyLogits } from '../model/forward.js';
import { initParams } from '../model/params.js';
import { Rng } from '../model/rng.js';

const spec = { obsDim: 4, nActions: 2, hidden: [64, 64] };
const params = initParams(spec, 0);
const T = 128;

function timeMs(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function forwardUs(E: number, p: Float32Array | Float64Array): number {
  const rng = new Rng(2);
  const obs = Float32Array.from({ length: E * 4 }, () => 0.05 * rng.normal());
  const out = new Float32Array(E * 2);
  for (let r = 0; r < 50; r++) policyLogits(spec, p, obs, E, out);
  const reps = Math.max(50, Math.round(200_000 / E));
  const ms = timeMs(() => {
    for (let r = 0; r < reps; r++) policyLogits(spec, p, obs, E, out);
  });
  return (ms * 1000) / (reps * E);
}

const params64 = Float64Array.from(params);
console.log('E\tcollect steps/s\tforward us/env-step (f64 params)\t(f32 params)\tforward share of collect');
for (const E of [8, 32, 128]) {
  const c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: E, seed: 1, modelSpec: spec });
  c.collect(params, T); // warm-up (JIT)
  const reps = Math.max(2, Math.round(40_000 / (T * E)));
  const ms = timeMs(() => {
    for (let r = 0; r < reps; r++) c.collect(params, T);
  });
  const stepsPerS = (reps * T * E) / (ms / 1000);
  const us64 = forwardUs(E, params64);
  const us32 = forwardUs(E, params);
  const share = ((us64 * stepsPerS) / 1e6) * 100;
  console.log(`${E}\t${Math.round(stepsPerS)}\t\t${us64.toFixed(2)}\t\t\t\t${us32.toFixed(2)}\t\t${share.toFixed(0)}%`);
}
