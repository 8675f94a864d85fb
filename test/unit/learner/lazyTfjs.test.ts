/**
 * The default float64 gradient path never loads tfjs: learner/learner.ts, batch, loss and the
 * objectives import it only through model/backend.ts `initBackend`. Vitest runs each test file
 * in its own process (pool 'forks', isolate), so tfjs is absent here until this file loads it;
 * tfjs-core registers its engine as globalThis._tfengine when it loads.
 */
import { describe, expect, it } from 'vitest';
import { SegmentCollector } from '../../../actor/collect.js';
import { initBackend } from '../../../model/backend.js';
import { initParams } from '../../../model/params.js';
import { Learner } from '../../../learner/learner.js';
import { DEFAULT_OBJECTIVE } from '../../../protocol/objectiveConfig.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { learnerConfig } from './fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const cfg = learnerConfig({ objective: { ...DEFAULT_OBJECTIVE, method: 'v3.1' } });

function tfjsLoaded(): boolean {
  return '_tfengine' in globalThis;
}

describe('tfjs is loaded lazily', () => {
  it('a learner update on the js path runs without it; the tfjs path asks for initBackend, then runs', async () => {
    expect(tfjsLoaded()).toBe(false);
    const p0 = initParams(spec, 1);
    const seg = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 2, seed: 3, modelSpec: spec }).collect(p0, 16);
    const msg: RolloutMsg = { type: MsgType.Rollout, actorId: 0, seq: 0, workerId: 0, behaviourVersion: 0, ...seg };
    const st = new Learner(spec, cfg, p0, 1).step([{ msg, lag: 0 }], 0);
    expect(st.nonFiniteSkips).toBe(0);
    expect(Number.isFinite(st.policyLoss)).toBe(true);
    expect(tfjsLoaded()).toBe(false);

    expect(() => new Learner(spec, { ...cfg, grad: 'tfjs' }, p0, 1)).toThrow(/await initBackend\(\) first/);
    await initBackend('cpu');
    expect(tfjsLoaded()).toBe(true);
    const st2 = new Learner(spec, { ...cfg, grad: 'tfjs' }, p0, 1).step([{ msg, lag: 0 }], 0);
    expect(st2.policyLoss).toBeCloseTo(st.policyLoss, 4);
  });
});
