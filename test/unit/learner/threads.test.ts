/**
 * --learner-threads: the gradient of each minibatch computed by the main thread and L - 1 real
 * pinned worker threads over shared memory gives the same update as the in-process path (to
 * float rounding of the sum over shards), for the categorical and the Gaussian head, is
 * deterministic for every L, and v3.1's gamma_ess is taken over the whole minibatch, not per
 * shard. --learner-parallel data: one minibatch per thread, averaged into one step. Needs the
 * build (dist/learner/gradWorker.js).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { initParams, paramCount } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner, type UpdateStats } from '../../../learner/learner.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import type { LearnerConfig } from '../../../learner/config.js';
import type { TrainingSegment } from '../../../learner/batch.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { buildConfig } from '../../../deploy/options.js';
import type { ModelSpec } from '../../../model/spec.js';
import { Workspace } from '../../../model/grad.js';
import { GradThreads, PARALLEL_OPT_MIN, parallelOptimiser } from '../../../learner/threads.js';
import { ADAM_BETA1, ADAM_BETA2, FlatAdam } from '../../../learner/adam.js';
import { lossAndGradJs } from '../../../learner/lossJs.js';
import { WeightBatch } from '../../../learner/objectives/weights.js';
import { learnerConfig } from './fakes.js';

const spec: ModelSpec = { obsDim: 4, nActions: 2, hidden: [16, 16] };
/** Pendulum-v1: a box action, the Gaussian head. */
const boxSpec: ModelSpec = { obsDim: 3, nActions: 1, hidden: [16, 16], head: 'gaussian' };
const base = learnerConfig();

function segment(params: Float32Array, seed: number, version: number, s: ModelSpec = spec): RolloutMsg {
  const envId = s === boxSpec ? 'Pendulum-v1' : 'CartPole-v1';
  const seg = new SegmentCollector({ envId, numEnvs: 4, seed, modelSpec: s }).collect(params, 24);
  return { type: MsgType.Rollout, actorId: 0, seq: 0, workerId: 0, behaviourVersion: version, ...seg };
}

const learners: Learner[] = [];
afterAll(async () => {
  await Promise.all(learners.map((l) => l.dispose()));
});

/** Three updates of a learner with `threads` threads on the same lagged segments; the params after each. */
async function run(cfg: LearnerConfig, threads: number, s: ModelSpec = spec): Promise<{ params: Float32Array[]; stats: UpdateStats[] }> {
  const p0 = initParams(s, 3);
  const l = new Learner(s, { ...cfg, learnerThreads: threads }, p0, 9);
  learners.push(l);
  // Behaviour policies that differ from the learner's: the weights are not all 1.
  const behaviour = initParams(s, 4);
  const params: Float32Array[] = [];
  const stats: UpdateStats[] = [];
  for (let k = 0; k < 3; k++) {
    const segs: TrainingSegment[] = [
      { msg: segment(behaviour, 10 + k, 0, s), lag: k },
      { msg: segment(p0, 20 + k, 0, s), lag: k },
    ];
    stats.push(await l.update(segs, k * 192));
    params.push(l.paramsArray());
  }
  return { params, stats };
}

/**
 * The same quadrant counts, and means of g equal to float rounding (the threads sum the
 * clipping norm by parameter range, so the parameters, hence g, can differ in the last bits).
 */
function expectQuadrantsClose(a: UpdateStats['trainQuadrants'], b: UpdateStats['trainQuadrants']): void {
  if (a === null || b === null) return expect(a).toBe(b);
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a) as (keyof typeof a)[]) {
    expect(a[k].n, k).toBe(b[k].n);
    const x = a[k].meanG,
      y = b[k].meanG;
    if (x === null || y === null) expect(x, k).toBe(y);
    else expect(Math.abs(x - y), k).toBeLessThan(1e-12 * Math.max(1, Math.abs(y)));
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('learner threads', () => {
  for (const method of ['v5', 'v3.1'] as const) {
    it(`${method}: L = 1, 2 and 4 give the same updates; each L is deterministic`, async () => {
      const cfg = { ...base, objective: { ...DEFAULT_OBJECTIVE, method } };
      const one = await run(cfg, 1);
      const p0 = initParams(spec, 3);
      expect(maxDiff(one.params[2], p0)).toBeGreaterThan(1e-4); // the updates did something
      for (const L of [2, 4]) {
        const a = await run(cfg, L);
        for (let k = 0; k < 3; k++) {
          expect(maxDiff(a.params[k], one.params[k]), `L=${L} update ${k}`).toBeLessThan(1e-6);
          expect(a.stats[k].policyLoss).toBeCloseTo(one.stats[k].policyLoss, 9);
          expect(a.stats[k].valueLoss).toBeCloseTo(one.stats[k].valueLoss, 9);
          expect(a.stats[k].gradNorm).toBeCloseTo(one.stats[k].gradNorm, 9);
          // The weights came from the whole minibatch: same quadrant means as in-process.
          expectQuadrantsClose(a.stats[k].trainQuadrants, one.stats[k].trainQuadrants);
        }
        const again = await run(cfg, L);
        for (let k = 0; k < 3; k++) expect(again.params[k]).toEqual(a.params[k]); // bit for bit
        expect(a.stats[2].times.allReduceMs).toBeGreaterThanOrEqual(0);
      }
    });
  }

  for (const hidden of [
    [16, 16],
    [128, 128], // the threads share the optimiser
  ]) {
    it(`a non-finite gradient on a shard skips the step: NaN never reaches the parameters ([${hidden}])`, async () => {
      const s: ModelSpec = { ...spec, hidden };
      const p0 = initParams(s, 4);
      const seg = segment(p0, 6, 0, s);
      seg.rewards.fill(3e38); // finite input, but the value loss overflows to Infinity
      const l = new Learner(s, { ...base, normalizeAdvantages: false, learnerThreads: 2 }, p0, 1);
      learners.push(l);
      const st = await l.update([{ msg: seg, lag: 0 }], 0);
      expect(st.nonFiniteSkips).toBe(base.epochs * base.minibatches);
      expect(l.paramsArray()).toEqual(p0);
    });
  }

  for (const method of ['v5', 'ppo', 'v3.1'] as const) {
    it(`a box env (Pendulum-v1, Gaussian head), ${method}: L = 2 and 3 give the L = 1 updates, deterministically`, async () => {
      const cfg = { ...base, objective: { ...DEFAULT_OBJECTIVE, method } };
      const one = await run(cfg, 1, boxSpec);
      expect(maxDiff(one.params[2], initParams(boxSpec, 3))).toBeGreaterThan(1e-4);
      for (const L of [2, 3]) {
        const a = await run(cfg, L, boxSpec);
        const again = await run(cfg, L, boxSpec);
        for (let k = 0; k < 3; k++) {
          expect(maxDiff(a.params[k], one.params[k]), `L=${L} update ${k}`).toBeLessThan(1e-6);
          expect(a.stats[k].policyLoss).toBeCloseTo(one.stats[k].policyLoss, 9);
          expect(a.stats[k].valueLoss).toBeCloseTo(one.stats[k].valueLoss, 9);
          expectQuadrantsClose(a.stats[k].trainQuadrants, one.stats[k].trainQuadrants);
          expect(again.params[k]).toEqual(a.params[k]);
        }
      }
    });
  }

  it('the main thread computes one shard of each minibatch, the same gradient as in-process (and the shared sum of a wide model)', async () => {
    const { selectRows } = await import('../../../learner/batch.js');
    const { buildBatch } = await import('./buildBatch.js');
    // [180, 180] on 4 threads: 4 x 67k slot elements, summed by the threads together.
    const wide: ModelSpec = { ...spec, hidden: [180, 180] };
    for (const [s, L, syncs] of [
      [spec, 2, 1],
      [spec, 3, 1],
      [wide, 4, 2],
    ] as const) {
      const p0 = initParams(s, 5);
      const t = new GradThreads(s, base, L);
      try {
        const segs = [0, 1].map((k) => ({ msg: segment(initParams(s, 6), 40 + k, 0, s), lag: 1 }));
        const batch = buildBatch(s, Float64Array.from(p0), segs, base, new Workspace(s, 256));
        // A minibatch of 50 rows of the batch: rows 3, 5, 7, ...
        const rows = Int32Array.from({ length: 50 }, (_, i) => 3 + 2 * i);
        t.params.set(p0);
        t.loadBatch(batch);
        const wts = new WeightBatch();
        const got = await t.gradient(rows, wts);
        const want = lossAndGradJs(s, base, Float64Array.from(p0), selectRows(batch, rows, s.obsDim), new Workspace(s, 64));
        let worst = 0;
        for (let j = 0; j < want.grad.length; j++) worst = Math.max(worst, Math.abs(got.grad[j] - want.grad[j]));
        expect(worst, `L=${L}`).toBeLessThan(1e-12);
        expect(got.terms.total).toBeCloseTo(want.terms.total, 12);
        expect(Array.from(wts.g)).toEqual(Array.from(want.weights!.g));
        // Shard 0 (this thread) took its share of the rows: floor(50 / L).
        expect(t.stats.mainRows).toBe(Math.floor(50 / L));
        expect(t.stats.rows).toBe(50);
        expect(t.stats.syncs).toBe(syncs);
      } finally {
        await t.close();
      }
    }
  });

  it('a model of PARALLEL_OPT_MIN parameters and more: the threads share the reduction, the norm and Adam; same updates as L = 1, deterministic', async () => {
    // [128, 128]: 34,691 parameters, over the threshold (the [16, 16] tests above stay under it).
    const wide: ModelSpec = { ...spec, hidden: [128, 128] };
    expect(paramCount(wide)).toBeGreaterThanOrEqual(PARALLEL_OPT_MIN);
    expect(parallelOptimiser(wide)).toBe(true);
    expect(parallelOptimiser(spec)).toBe(false);
    const cfg = { ...base, objective: { ...DEFAULT_OBJECTIVE, method: 'v5' as const } };
    const one = await run(cfg, 1, wide);
    expect(maxDiff(one.params[2], initParams(wide, 3))).toBeGreaterThan(1e-4);
    for (const L of [2, 3]) {
      const a = await run(cfg, L, wide);
      const again = await run(cfg, L, wide);
      for (let k = 0; k < 3; k++) {
        expect(maxDiff(a.params[k], one.params[k]), `L=${L} update ${k}`).toBeLessThan(1e-6);
        expect(a.stats[k].gradNorm).toBeCloseTo(one.stats[k].gradNorm, 9);
        expect(a.stats[k].policyLoss).toBeCloseTo(one.stats[k].policyLoss, 9);
        expect(again.params[k]).toEqual(a.params[k]); // bit for bit
      }
    }
  });

  it('a resumed state on threads that share the optimiser: the next update is the one of the learner it came from, bit for bit', async () => {
    // The shards keep W^T of the params from the shared Adam step; a state written over the
    // params must not leave them behind.
    const wide: ModelSpec = { ...spec, hidden: [128, 128] };
    const cfg = { ...base, learnerThreads: 2 };
    const p0 = initParams(wide, 3);
    const segs = (k: number): TrainingSegment[] => [{ msg: segment(initParams(wide, 4), 60 + k, 0, wide), lag: 1 }];
    const a = new Learner(wide, cfg, p0, 9);
    const b = new Learner(wide, cfg, initParams(wide, 7), 9);
    learners.push(a, b);
    await a.update(segs(0), 0);
    const state = a.exportState();
    await b.update(segs(5), 0); // b's shards hold the transposes of b's own params
    b.importState(state);
    await a.update(segs(1), 192);
    await b.update(segs(1), 192);
    expect(b.paramsArray()).toEqual(a.paramsArray());
    expect(maxDiff(a.paramsArray(), p0)).toBeGreaterThan(1e-4);
  });

  it('the Adam step split over the threads by parameter range is the one-thread step bit for bit; one synchronisation each', async () => {
    const { buildBatch } = await import('./buildBatch.js');
    const wide: ModelSpec = { ...spec, hidden: [128, 128] };
    const p0 = initParams(wide, 5);
    const t = new GradThreads(wide, base, 3);
    try {
      const segs = [0, 1].map((k) => ({ msg: segment(initParams(wide, 6), 50 + k, 0, wide), lag: 1 }));
      const batch = buildBatch(wide, Float64Array.from(p0), segs, base, new Workspace(wide, 256));
      t.params.set(p0);
      t.loadBatch(batch);
      const shared = new FlatAdam(p0.length, ADAM_BETA1, ADAM_BETA2, base.adamEps, t.moments);
      const alone = new FlatAdam(p0.length, ADAM_BETA1, ADAM_BETA2, base.adamEps);
      const want = Float64Array.from(p0);
      for (let step = 0; step < 3; step++) {
        const rows = Int32Array.from({ length: 64 }, (_, i) => (7 * i + step) % batch.n);
        const got = await t.gradient(rows, new WeightBatch());
        let sq = 0;
        for (const g of got.grad) sq += g * g;
        expect(got.sumSq).toBeCloseTo(sq, 12);
        const grad = Float64Array.from(got.grad);
        const syncs = t.stats.syncs;
        await t.adamStep(shared, got.grad, 1e-3, 0.7);
        expect(t.stats.syncs).toBe(syncs + 1);
        alone.step(want, grad, 1e-3, 0.7);
        expect(Array.from(t.params)).toEqual(Array.from(want));
      }
      expect(maxDiff(Float32Array.from(want), p0)).toBeGreaterThan(1e-4);
      expect(shared.exportState()).toEqual(alone.exportState());
    } finally {
      await t.close();
    }
  });

  it('--learner-parallel data: one minibatch per thread, averaged into one step', async () => {
    // v5's weights are per sample, so data mode with L = 2 and 4 minibatches of m rows takes
    // the steps of the exact mode with 2 minibatches of 2m rows (same permutation, same rows).
    const cfg = { ...base, epochs: 2, minibatches: 4 };
    const data = await run({ ...cfg, learnerParallel: 'data' }, 2);
    const exact = await run({ ...cfg, minibatches: 2 }, 1);
    const exact4 = await run(cfg, 1);
    for (let k = 0; k < 3; k++) {
      expect(maxDiff(data.params[k], exact.params[k]), `update ${k}`).toBeLessThan(1e-6);
      expectQuadrantsClose(data.stats[k].trainQuadrants, exact.stats[k].trainQuadrants);
    }
    expect(maxDiff(data.params[2], exact4.params[2])).toBeGreaterThan(1e-5); // not the exact 4-minibatch update
    // 3 minibatches on 2 threads: steps of 2 and 1 minibatches; deterministic.
    const odd = { ...cfg, minibatches: 3, learnerParallel: 'data' as const };
    const a = await run(odd, 2);
    const b = await run(odd, 2);
    for (let k = 0; k < 3; k++) expect(b.params[k]).toEqual(a.params[k]);
    expect(a.stats[2].nonFiniteSkips).toBe(0);
  });

  it('an error in a thread rejects the update with its message, and the next update too', async () => {
    const p0 = initParams(spec, 6);
    const seg = segment(p0, 8, 0);
    seg.actions[5] = 7; // out of range: a caller bug the loss throws on
    const l = new Learner(spec, { ...base, learnerThreads: 2 }, p0, 1);
    learners.push(l);
    await expect(l.update([{ msg: seg, lag: 0 }], 0)).rejects.toThrow(
      /learner shard \d: actions\[\d+\] = 7: expected an integer in \[0, 2\)/,
    );
    // The pool stays failed: a later update is refused with the same error, not half computed.
    await expect(l.update([{ msg: segment(p0, 9, 0), lag: 0 }], 0)).rejects.toThrow(/learner shard \d: actions/);
  });

  it('the CLI refuses --learner-threads > 1 with --grad tfjs, and 0 threads; accepts box envs and --learner-parallel', () => {
    expect(() => buildConfig({ 'learner-threads': 2, grad: 'tfjs' })).toThrow('--learner-threads: 2 threads need --grad js');
    expect(() => buildConfig({ 'learner-threads': 0 })).toThrow(/--learner-threads/);
    expect(buildConfig({ 'learner-threads': 3 }).learnerThreads).toBe(3);
    expect(buildConfig({ env: 'Pendulum-v1', 'learner-threads': 2 }).learnerThreads).toBe(2);
    expect(buildConfig({ 'learner-threads': 2, 'learner-parallel': 'data' }).learnerParallel).toBe('data');
    expect(buildConfig({}).learnerParallel).toBe('exact');
    expect(() => buildConfig({ 'learner-parallel': 'fast' })).toThrow(/--learner-parallel/);
    expect(() => buildConfig({ 'learner-threads': 4, 'learner-parallel': 'data', minibatches: 2 })).toThrow(
      '--learner-parallel data: each of the 4 learner threads takes its own minibatch, but there are only --minibatches 2',
    );
  });

  it('refuses threads on the tfjs path, and a thread count out of range', () => {
    const p0 = initParams(spec, 4);
    expect(() => new Learner(spec, { ...base, grad: 'tfjs', learnerThreads: 2 }, p0, 1)).toThrow(/needs grad 'js'/);
    expect(() => new Learner(spec, { ...base, learnerThreads: 65 }, p0, 1)).toThrow(/\[2, 64\]/);
  });
});
