/**
 * The evaluation share cap through the real training loop (fake transport and evaluator, real
 * learner on real CartPole segments): the loop hands the scheduler its training steps, so the
 * periodic evaluations shrink to what --eval-share leaves.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { initParams, modelHash } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner } from '../../../learner/learner.js';
import { TrainingLoop } from '../../../learner/loop.js';
import { ParamPublisher } from '../../../learner/publisher.js';
import { MsgType } from '../../../protocol/messages.js';
import type { UpdateRecord } from '../../../protocol/records.js';
import { EVAL_EPISODE_STEPS, FakeEvaluator, FakeLearnerTransport, ManualClock, MemoryLogger, testConfig } from './fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const HASH = modelHash(spec);

async function run(evalShare: number | undefined): Promise<{ updates: UpdateRecord[]; evaluator: FakeEvaluator }> {
  const cfg = testConfig({
    steps: 8 * 2 * 64,
    evalEvery: 1,
    evalEpisodes: 10,
    deterministic: true,
    ...(evalShare === undefined ? {} : { evalShare }),
  });
  const transport = new FakeLearnerTransport();
  const evaluator = new FakeEvaluator();
  const updates: UpdateRecord[] = [];
  const loop = new TrainingLoop({
    cfg,
    spec,
    modelHash: HASH,
    learner: new Learner(spec, cfg, initParams(spec, cfg.seed), cfg.seed),
    transport,
    clock: new ManualClock(),
    evaluator,
    publisher: new ParamPublisher((p, m) => transport.send(p, m), HASH, cfg.historyVersions),
    logger: new MemoryLogger(),
    backend: 'test',
    endpoint: 'inproc://unit',
    onUpdate: (r) => updates.push(r),
  });
  // One actor: two 16 x 4 segments per version, acting with that version (the deterministic schedule).
  const peer = Buffer.from('actor-0');
  const collector = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed: 100, modelSpec: spec });
  let seq = 0;
  let newest = -1;
  transport.onSend = (s) => {
    if (!s.peer.equals(peer) || s.msg.type !== MsgType.Params || s.msg.version <= newest) return;
    newest = s.msg.version;
    for (let i = 0; i < 2; i++)
      transport.push(peer, {
        type: MsgType.Rollout,
        actorId: 0,
        seq: seq++,
        workerId: 0,
        behaviourVersion: s.msg.version,
        ...collector.collect(s.msg.params, 16),
      });
  };
  transport.push(peer, {
    type: MsgType.Hello,
    actorId: 0,
    envId: 'CartPole-v1',
    obsDim: 4,
    nActions: 2,
    numEnvs: 4,
    modelHash: HASH,
    incarnation: 1,
  });
  await loop.run();
  return { updates, evaluator };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('--eval-share through the training loop', () => {
  it('keeps the periodic evaluations within the share of the training steps, with fewer episodes', async () => {
    const { updates, evaluator } = await run(0.5);
    expect(updates.map((u) => u.envSteps)).toEqual([128, 256, 384, 512, 640, 768, 896, 1024]);
    const baseline = 10 * 2 * EVAL_EPISODE_STEPS; // the random baseline, outside the cap
    for (const u of updates) expect(u.evalEnvSteps! - baseline, `v${u.version}`).toBeLessThanOrEqual(0.5 * u.envSteps);
    const periodic = evaluator.calls.slice(1, -1).map((c) => c.episodes); // not the random baseline, not the final evaluation
    expect(periodic.length).toBe(8);
    // 64 evaluation steps per update of 128 training steps: floor((64 v - steps so far) / 14) episodes of 14, never the 10 asked for.
    expect(periodic).toEqual([4, 5, 4, 5, 4, 5, 5, 4]);
    expect(updates.at(-1)!.evalEnvSteps! - baseline).toBe(36 * 14); // 504 of the 512 allowed
  });

  it('without the cap every evaluation runs --eval-episodes', async () => {
    const { evaluator } = await run(undefined);
    expect(evaluator.calls.slice(1, -1).map((c) => c.episodes)).toEqual(Array(8).fill(10));
  });
});
