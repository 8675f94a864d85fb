/**
 * --learner-threads: the gradient of each minibatch computed on L real worker threads over
 * shared memory gives the same update as the in-process path (to float rounding of the sum
 * over shards), is deterministic for every L, and v3.1's gamma_ess is taken over the whole
 * minibatch, not per shard. Needs the build (dist/learner/gradWorker.js).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { initParams } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner, type UpdateStats } from '../../../learner/learner.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import type { LearnerConfig } from '../../../learner/config.js';
import type { TrainingSegment } from '../../../learner/batch.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { buildConfig } from '../../../deploy/options.js';
import { learnerConfig } from './fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [16, 16] };
const base = learnerConfig();

function segment(params: Float32Array, seed: number, version: number): RolloutMsg {
  const seg = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed, modelSpec: spec }).collect(params, 24);
  return { type: MsgType.Rollout, actorId: 0, seq: 0, workerId: 0, behaviourVersion: version, ...seg };
}

const learners: Learner[] = [];
afterAll(async () => {
  await Promise.all(learners.map((l) => l.dispose()));
});

/** Three updates of a learner with `threads` threads on the same lagged segments; the params after each. */
async function run(cfg: LearnerConfig, threads: number): Promise<{ params: Float32Array[]; stats: UpdateStats[] }> {
  const p0 = initParams(spec, 3);
  const l = new Learner(spec, { ...cfg, learnerThreads: threads }, p0, 9);
  learners.push(l);
  // Behaviour policies that differ from the learner's: the weights are not all 1.
  const behaviour = initParams(spec, 4);
  const params: Float32Array[] = [];
  const stats: UpdateStats[] = [];
  for (let k = 0; k < 3; k++) {
    const segs: TrainingSegment[] = [
      { msg: segment(behaviour, 10 + k, 0), lag: k },
      { msg: segment(p0, 20 + k, 0), lag: k },
    ];
    stats.push(await l.update(segs, k * 192));
    params.push(l.paramsArray());
  }
  return { params, stats };
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
          expect(a.stats[k].trainQuadrants).toEqual(one.stats[k].trainQuadrants);
        }
        const again = await run(cfg, L);
        for (let k = 0; k < 3; k++) expect(again.params[k]).toEqual(a.params[k]); // bit for bit
        expect(a.stats[2].times.allReduceMs).toBeGreaterThanOrEqual(0);
      }
    });
  }

  it('a non-finite gradient on a shard skips the step: NaN never reaches the parameters', async () => {
    const p0 = initParams(spec, 4);
    const seg = segment(p0, 6, 0);
    seg.rewards.fill(3e38); // finite input, but the value loss overflows to Infinity
    const l = new Learner(spec, { ...base, normalizeAdvantages: false, learnerThreads: 2 }, p0, 1);
    learners.push(l);
    const st = await l.update([{ msg: seg, lag: 0 }], 0);
    expect(st.nonFiniteSkips).toBe(base.epochs * base.minibatches);
    expect(l.paramsArray()).toEqual(p0);
  });

  it('the main thread keeps running its event loop while the threads compute', async () => {
    const p0 = initParams(spec, 5);
    const segs: TrainingSegment[] = [0, 1, 2, 3].map((k) => ({ msg: segment(p0, 30 + k, 0), lag: 0 }));
    /** setImmediate turns of the event loop during one update. */
    const turns = async (l: Learner): Promise<number> => {
      let n = 0,
        on = true;
      const tick = () => {
        if (on) {
          n++;
          setImmediate(tick);
        }
      };
      setImmediate(tick);
      await l.update(segs, 0);
      on = false;
      return n;
    };
    const inProcess = new Learner(spec, base, p0, 1);
    const threaded = new Learner(spec, { ...base, learnerThreads: 2 }, p0, 1);
    learners.push(inProcess, threaded);
    expect(await turns(inProcess)).toBe(0); // L = 1: the update holds the thread
    // L = 2: one turn at least per phase awaited (forward rows, then fwd and bwd per minibatch).
    expect(await turns(threaded)).toBeGreaterThanOrEqual(1 + 2 * base.epochs * base.minibatches);
  });

  it('an error in a thread rejects the update with its message, and the next update too', async () => {
    const p0 = initParams(spec, 6);
    const seg = segment(p0, 8, 0);
    seg.actions[5] = 7; // out of range: a caller bug the loss throws on
    const l = new Learner(spec, { ...base, learnerThreads: 2 }, p0, 1);
    learners.push(l);
    await expect(l.update([{ msg: seg, lag: 0 }], 0)).rejects.toThrow(
      /learner thread: actions\[\d+\] = 7: expected an integer in \[0, 2\)/,
    );
    // The pool stays failed: a later update is refused with the same error, not half computed.
    await expect(l.update([{ msg: segment(p0, 9, 0), lag: 0 }], 0)).rejects.toThrow(/learner thread: actions/);
  });

  it('the CLI refuses --learner-threads > 1 with --grad tfjs, and 0 threads', () => {
    expect(() => buildConfig({ 'learner-threads': 2, grad: 'tfjs' })).toThrow('--learner-threads: 2 threads need --grad js');
    expect(() => buildConfig({ 'learner-threads': 0 })).toThrow(/--learner-threads/);
    expect(buildConfig({ 'learner-threads': 3 }).learnerThreads).toBe(3);
  });

  it('refuses threads on the tfjs path, and a thread count out of range', () => {
    const p0 = initParams(spec, 4);
    expect(() => new Learner(spec, { ...base, grad: 'tfjs', learnerThreads: 2 }, p0, 1)).toThrow(/needs grad 'js'/);
    expect(() => new Learner(spec, { ...base, learnerThreads: 65 }, p0, 1)).toThrow(/\[2, 64\]/);
  });
});
