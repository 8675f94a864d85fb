/**
 * The learner's update on real segments from the real collector: both gradient paths agree,
 * and a non-finite gradient never reaches the parameters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { initParams } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner } from '../../../learner/learner.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import type { LearnerConfig } from '../../../learner/config.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { learnerConfig } from './fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [16, 16] };
const base = learnerConfig();

function segment(params: Float32Array, seed: number): RolloutMsg {
  const seg = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed, modelSpec: spec }).collect(params, 16);
  return { type: MsgType.Rollout, actorId: 0, seq: 0, workerId: 0, behaviourVersion: 0, ...seg };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Learner.step', () => {
  it('js and tfjs gradient paths give the same update', () => {
    const p0 = initParams(spec, 3);
    const seg = segment(p0, 5);
    const a = new Learner(spec, base, p0, 9);
    const b = new Learner(spec, { ...base, grad: 'tfjs' }, p0, 9);
    const sa = a.step([{ msg: seg, lag: 0 }], 0);
    const sb = b.step([{ msg: seg, lag: 0 }], 0);
    expect(a.version).toBe(1);
    expect(sa.ess).toBeGreaterThan(0.999);
    expect(sa.policyLoss).toBeCloseTo(sb.policyLoss, 4);
    const pa = a.paramsArray(),
      pb = b.paramsArray();
    let diff = 0,
      moved = 0;
    for (let i = 0; i < pa.length; i++) {
      diff = Math.max(diff, Math.abs(pa[i] - pb[i]));
      moved = Math.max(moved, Math.abs(pa[i] - p0[i]));
    }
    expect(moved).toBeGreaterThan(1e-4); // the update did something
    expect(diff).toBeLessThan(1e-5);
    expect(sa.trainQuadrants).not.toBeNull();
    const n = Object.values(sa.trainQuadrants!).reduce((s, q) => s + q.n, 0);
    expect(n).toBe(base.epochs * 64); // every sample of every gradient step (4 envs x 16 steps)
    // The weights are data on both paths: the tfjs path logs trainQuadrants too, and the
    // diagnostics come from the same float64 computation whichever path takes the gradient.
    expect(sb.trainQuadrants).not.toBeNull();
    expect(Object.values(sb.trainQuadrants!).reduce((s, q) => s + q.n, 0)).toBe(n);
    for (const k of ['ess', 'essG', 'meanG', 'meanH', 'meanGamma', 'klMuPiK3'] as const) expect(sb[k], k).toBe(sa[k]);
  });

  it('a non-finite gradient skips the step: NaN never reaches the parameters', () => {
    const p0 = initParams(spec, 4);
    const seg = segment(p0, 6);
    seg.rewards.fill(3e38); // finite input, but the value loss overflows to Infinity
    const l = new Learner(spec, { ...base, normalizeAdvantages: false }, p0, 1);
    const st = l.step([{ msg: seg, lag: 0 }], 0);
    expect(st.nonFiniteSkips).toBe(base.epochs * base.minibatches);
    expect(Array.from(l.paramsArray())).toEqual(Array.from(p0));
  });
});

describe('every method and option trains on real segments under lag', () => {
  const variants: Array<[string, Partial<LearnerConfig>]> = [
    ...(['sft', 'is', 'ppo', 'cispo', 'vtrace', 'sapo', 'v3.1', 'v5', 'v5-fixed'] as const).map((m): [string, Partial<LearnerConfig>] => [
      m,
      { objective: { ...DEFAULT_OBJECTIVE, method: m } },
    ]),
    [
      'v5 trust=log sft-trust floor=neg-is',
      { objective: { ...DEFAULT_OBJECTIVE, method: 'v5', trust: 'log', sftTrust: true, floor: 'neg-is' } },
    ],
    ['v5 gae, no normalisation', { advantage: 'gae', normalizeAdvantages: false }],
    ['ppo tfjs gradients', { objective: { ...DEFAULT_OBJECTIVE, method: 'ppo' }, grad: 'tfjs' }],
  ];
  for (const [name, over] of variants) {
    it(name, () => {
      const p0 = initParams(spec, 11);
      const l = new Learner(spec, { ...base, ...over }, p0, 2);
      // Segments acted by the initial parameters and trained on after 0, 1, 2 updates (lag grows).
      const segs = [segment(p0, 21), segment(p0, 22), segment(p0, 23)];
      for (let k = 0; k < segs.length; k++) {
        const st = l.step([{ msg: segs[k], lag: k }], k * 64);
        expect(st.nonFiniteSkips).toBe(0);
        for (const x of [st.policyLoss, st.valueLoss, st.entropy, st.gradNorm, st.ess, st.essG, st.klMuPiK3])
          expect(Number.isFinite(x)).toBe(true);
        if (k > 0) expect(st.ess).toBeLessThan(1);
      }
      const p = l.paramsArray();
      expect(p.every(Number.isFinite)).toBe(true);
      expect(p.some((x, i) => x !== p0[i])).toBe(true);
    });
  }
});
