/**
 * The learner on sequence-task data from the real collector: group advantages, per-response
 * ratios (in the batch and in every minibatch), the per-source diagnostics, and every method
 * on every task under every behaviour without a NaN reaching the parameters.
 */
import { describe, expect, it } from 'vitest';
import { SegmentCollector, type BehaviourOptions } from '../../../actor/collect.js';
import { envSpecOf } from '../../../envs/registry.js';
import { groupAdvantages, responseMeanLogRatio } from '../../../learner/advantages.js';
import { responsePermutation, selectRows } from '../../../learner/batch.js';
import { buildBatch } from '../learner/buildBatch.js';
import type { LearnerConfig } from '../../../learner/config.js';
import { Learner } from '../../../learner/learner.js';
import { DEFAULT_OBJECTIVE, METHODS } from '../../../protocol/objectiveConfig.js';
import { initParams } from '../../../model/params.js';
import { Workspace } from '../../../model/grad.js';
import { Rng } from '../../../model/rng.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';

const base: LearnerConfig = {
  objective: { ...DEFAULT_OBJECTIVE, method: 'ppo' },
  advantage: 'group',
  normalizeAdvantages: true,
  discount: 1,
  lambda: 0.95,
  lr: 3e-3,
  annealLr: false,
  adamEps: 1e-5,
  epochs: 2,
  minibatches: 2,
  entCoef: 0.01,
  vfCoef: 0.5,
  maxGradNorm: 0.5,
  steps: 1e5,
  grad: 'js',
  groupSize: 4,
};

function specOf(envId: string) {
  const e = envSpecOf(envId);
  return { obsDim: e.obsDim, nActions: e.nActions, hidden: [16] };
}

function rollout(envId: string, params: Float32Array, seed: number, b: BehaviourOptions, E = 8): RolloutMsg {
  const spec = specOf(envId);
  const seg = new SegmentCollector({ envId, numEnvs: E, seed, modelSpec: spec, behaviour: b }).collect(
    params,
    envSpecOf(envId).maxEpisodeSteps,
  );
  return { type: MsgType.Rollout, actorId: 0, seq: 0, workerId: 0, behaviourVersion: 0, ...seg };
}

describe('group advantages', () => {
  it('(R - group mean) / (group std + 1e-6) on every token of a response', () => {
    // T = 2, E = 4, groups {0, 1} and {2, 3}; returns 1, 0 | 0.5, 0.5.
    const rewards = [0, 0, 0, 0, 1, 0, 0.5, 0.5];
    const a = groupAdvantages({ T: 2, E: 4, rewards }, 2);
    const x = 0.5 / (0.5 + 1e-6);
    expect(Array.from(a).map((v) => +v.toFixed(9))).toEqual([x, -x, 0, 0, x, -x, 0, 0].map((v) => +v.toFixed(9)));
    expect(() => groupAdvantages({ T: 1, E: 3, rewards: [0, 0, 0] }, 2)).toThrow(/dividing E = 3/);
  });

  it('the mean log-ratio of each response', () => {
    const lr = Float64Array.from([1, 2, 3, -1]);
    expect(Array.from(responseMeanLogRatio(lr, [0, 1, 0, 1]))).toEqual([2, 0.5, 2, 0.5]);
  });
});

describe('a sequence batch', () => {
  const envId = 'seq-reverse';
  const spec = specOf(envId);
  const p0 = initParams(spec, 2);
  const p1 = initParams(spec, 3); // the learner's parameters differ from the behaviour's: w != 1

  it('--ratio sequence: every token of a response has the response mean log-ratio, also in minibatches', () => {
    const msg = rollout(envId, p0, 4, { groupSize: 4, teacherShare: 0.5, teacherEps: 0.2 });
    const cfg = { ...base, ratio: 'sequence' as const };
    const tok = buildBatch(spec, Float64Array.from(p1), [{ msg, lag: 3 }], base, new Workspace(spec, 64));
    const seq = buildBatch(spec, Float64Array.from(p1), [{ msg, lag: 3 }], cfg, new Workspace(spec, 64));
    expect(seq.response).toBeDefined();
    const E = 8,
      T = 4;
    for (let e = 0; e < E; e++) {
      let m = 0;
      for (let t = 0; t < T; t++) m += tok.logRatio[t * E + e] / T;
      for (let t = 0; t < T; t++) expect(seq.logRatio[t * E + e]).toBeCloseTo(m, 12);
    }
    expect(new Set(Array.from(tok.logRatio)).size).toBeGreaterThan(E); // per token they differ
    // Group advantages: identical over a response, zero mean within each group.
    for (let e = 0; e < E; e++) for (let t = 1; t < T; t++) expect(seq.adv[t * E + e]).toBe(seq.adv[e]);
    for (let g = 0; g < E; g += 4) expect(Math.abs(seq.adv[g] + seq.adv[g + 1] + seq.adv[g + 2] + seq.adv[g + 3])).toBeLessThan(1e-5);
    // Minibatches take whole responses.
    const perm = responsePermutation(seq, new Rng(1));
    expect(Array.from(perm).sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    const mb = selectRows(seq, perm.subarray(0, 16), spec.obsDim);
    const ids = Array.from(mb.response!);
    for (let k = 0; k < 16; k += T) expect(new Set(ids.slice(k, k + T)).size).toBe(1);
    // Per-source diagnostics rows.
    expect(Array.from(seq.seq!.source.subarray(0, E))).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(seq.seq!.position)).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    ]);
  });

  it('update records carry per-source, per-bucket and per-position diagnostics with exact-match rates', () => {
    const msg = rollout(envId, p0, 7, { groupSize: 4, teacherShare: 0.5, teacherEps: 0 });
    const l = new Learner(spec, base, p0, 1);
    const st = l.step([{ msg, lag: 2 }], 0);
    const s = st.sequence!;
    expect(s.bySource.teacher!['2-3']!.success).toBe(1); // eps 0: every teacher response is right
    expect(s.bySource.teacher!['2-3']!.responses).toBe(4);
    expect(s.bySource.policy!['2-3']!.n).toBe(16);
    // Policy tokens under the behaviour parameters themselves: w = 1 exactly.
    expect(s.bySource.policy!['2-3']!.ess).toBeCloseTo(1, 9);
    expect(s.bySource.policy!['2-3']!.klPiMu).toBeCloseTo(0, 9);
    expect(s.bySource.teacher!['2-3']!.ess!).toBeLessThan(1);
    const exact = Array.from({ length: 8 }, (_, e) => (msg.source![e] === 0 ? (msg.rewards[3 * 8 + e] >= 1 ? 1 : 0) : 0)).reduce<number>(
      (a, b) => a + b,
      0,
    );
    expect(s.bySource.policy!['2-3']!.success).toBe(exact / 4);
    expect(s.positions.map((p) => p.n)).toEqual([8, 8, 8, 8]);
    // Position means: policy tokens have log w = 0, teacher tokens (mu = 1, eps 0) log pi < 0.
    for (const p of s.positions) expect(p.meanLogW).toBeLessThan(0);
  });
});

describe('every method, task and behaviour', () => {
  const behaviours: [string, BehaviourOptions][] = [
    ['stale', { groupSize: 4, teacherShare: 0, teacherEps: 0.1 }],
    ['teacher', { groupSize: 4, teacherShare: 1, teacherEps: 0.1 }],
    ['mix:0.5', { groupSize: 4, teacherShare: 0.5, teacherEps: 0.1 }],
  ];
  for (const envId of ['seq-reverse', 'seq-sort', 'seq-add']) {
    it(`${envId}: ${METHODS.length} methods x 3 behaviours x 2 ratios train without NaN`, () => {
      const spec = specOf(envId);
      const p0 = initParams(spec, 11);
      for (const method of METHODS) {
        for (const [name, b] of behaviours) {
          for (const ratio of ['token', 'sequence'] as const) {
            const cfg: LearnerConfig = { ...base, ratio, objective: { ...DEFAULT_OBJECTIVE, method } };
            const l = new Learner(spec, cfg, p0, 5);
            for (let u = 0; u < 2; u++) {
              // Lag: the rollout comes from p0 while the learner has moved on.
              const st = l.step([{ msg: rollout(envId, p0, 100 + u, b), lag: u }], u * 32);
              const what = `${envId} ${method} ${name} ${ratio} update ${u}`;
              expect(st.nonFiniteSkips, what).toBe(0);
              expect(Number.isFinite(st.policyLoss), what).toBe(true);
            }
            expect(l.paramsArray().every(Number.isFinite)).toBe(true);
          }
        }
      }
    });
  }
});
