/**
 * Benchmark: the cost of the learner's log mu check (learner/verify.ts) at the IMPALA-style
 * settings: CartPole, [64, 64] policy + value MLPs, 512 samples per update (4 segments of
 * 32 steps x 4 envs), 4 minibatches of 128, one epoch. Honest segments from the real collector
 * with 4 behaviour versions; reports samples/s of
 *   - the check alone (share 1 and 0.25),
 *   - one update alone (Learner.update, the default js kernel path),
 *   - update + check (what the learner does per batch), and the check's share of it.
 * Prints the table and a JSON line; asserts nothing.
 *   npx tsc -p . && node dist/bench/verify.js [seconds per figure, default 3]
 */
import { SegmentCollector } from '../actor/collect.js';
import { modelSpecFor } from '../envs/registry.js';
import { initParams } from '../model/params.js';
import { MsgType, type RolloutMsg } from '../protocol/messages.js';
import { ClaimVerifier } from '../learner/verify.js';
import { Learner } from '../learner/learner.js';
import type { LearnerConfig } from '../learner/config.js';
import { DEFAULT_OBJECTIVE } from '../protocol/objectiveConfig.js';
import { initBackend } from '../model/backend.js';

await initBackend('wasm');
const seconds = Number(process.argv[2] ?? 3);
const spec = modelSpecFor('CartPole-v1', [64, 64]);
const T = 32,
  E = 4,
  SEGS = 4; // 512 samples per update
const cfg: LearnerConfig = {
  objective: { ...DEFAULT_OBJECTIVE, method: 'v5' },
  advantage: 'vtrace',
  normalizeAdvantages: true,
  discount: 0.99,
  lambda: 0.95,
  lr: 5e-4,
  annealLr: false,
  adamEps: 1e-5,
  epochs: 1,
  minibatches: 4,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 40,
  steps: 1e9,
  grad: 'js',
};
const versions = [0, 1, 2, 3].map((v) => initParams(spec, 100 + v));
const collector = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: E, seed: 5, modelSpec: spec });
const msgs: RolloutMsg[] = [];
for (let i = 0; i < 64; i++) {
  const v = i % versions.length;
  msgs.push({ type: MsgType.Rollout, actorId: 0, seq: i, workerId: 0, behaviourVersion: v, ...collector.collect(versions[v], T) });
}

function rate(fn: (k: number) => Promise<number> | number): Promise<number> {
  return (async () => {
    for (let k = 0; k < 3; k++) await fn(k); // warm-up
    let samples = 0,
      k = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) samples += await fn(k++);
    return samples / ((performance.now() - t0) / 1000);
  })();
}

function verifier(share: number): ClaimVerifier {
  const v = new ClaimVerifier({ spec, share });
  versions.forEach((p, i) => v.note(i, p));
  return v;
}

const checkAll = verifier(1),
  checkQuarter = verifier(0.25);
const check = (v: ClaimVerifier) => (k: number) => {
  let n = 0;
  for (let s = 0; s < SEGS; s++) {
    const m = msgs[(k * SEGS + s) % msgs.length];
    if (v.check(m) !== null) throw new Error('an honest segment was refused');
    n += T * E;
  }
  return n;
};
const learner = new Learner(spec, cfg, versions[0], 1);
const update = (k: number) => {
  const segs = [];
  for (let s = 0; s < SEGS; s++) segs.push({ msg: msgs[(k * SEGS + s) % msgs.length], lag: 1 });
  return learner.update(segs, 0).then((st) => st.samples);
};
const both = (v: ClaimVerifier) => async (k: number) => {
  check(v)(k);
  return update(k);
};
// Interleaved rounds (a loaded machine drifts): the median of ROUNDS per figure.
const ROUNDS = 5;
const figs: Record<string, Array<() => Promise<number>>> = {
  checkAll: [() => rate(check(checkAll))],
  checkQuarter: [() => rate(check(checkQuarter))],
  update: [() => rate(update)],
  updateCheckAll: [() => rate(both(checkAll))],
  updateCheckQuarter: [() => rate(both(checkQuarter))],
};
const got: Record<string, number[]> = {};
for (let r = 0; r < ROUNDS; r++) for (const [k, [f]] of Object.entries(figs)) (got[k] ??= []).push(await f());
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const rCheck = median(got.checkAll),
  rCheckQ = median(got.checkQuarter),
  rUpdate = median(got.update),
  rBoth = median(got.updateCheckAll),
  rBothQ = median(got.updateCheckQuarter);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(
  `log mu check, CartPole [64, 64], ${SEGS * T * E} samples/update, 4 minibatches of 128, 1 epoch (median of ${ROUNDS} interleaved rounds of ${seconds} s)`,
);
console.log(`  check alone, all rows          ${fmt(rCheck)} samples/s`);
console.log(`  check alone, share 0.25        ${fmt(rCheckQ)} samples/s`);
console.log(`  update alone                   ${fmt(rUpdate)} samples/s`);
console.log(`  update + check (all rows)      ${fmt(rBoth)} samples/s (${((1 - rBoth / rUpdate) * 100).toFixed(1)} % slower)`);
console.log(`  update + check (share 0.25)    ${fmt(rBothQ)} samples/s (${((1 - rBothQ / rUpdate) * 100).toFixed(1)} % slower)`);
console.log(
  JSON.stringify({
    median: { checkAll: rCheck, checkQuarter: rCheckQ, update: rUpdate, updateCheckAll: rBoth, updateCheckQuarter: rBothQ },
    rounds: got,
  }),
);
