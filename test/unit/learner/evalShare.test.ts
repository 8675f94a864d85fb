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

async function run(
  evalShare: number | undefined,
  o: { evaluator?: FakeEvaluator; steps?: number; targetReturn?: number } = {},
): Promise<{ updates: UpdateRecord[]; evaluator: FakeEvaluator; logger: MemoryLogger }> {
  const cfg = testConfig({
    steps: o.steps ?? 8 * 2 * 64,
    evalEvery: 1,
    evalEpisodes: 10,
    deterministic: true,
    ...(evalShare === undefined ? {} : { evalShare }),
    ...(o.targetReturn === undefined ? {} : { targetReturn: o.targetReturn }),
  });
  const transport = new FakeLearnerTransport();
  const evaluator = o.evaluator ?? new FakeEvaluator();
  const logger = new MemoryLogger();
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
    logger,
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
  return { updates, evaluator, logger };
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

  it('a failed target confirmation does not stop the periodic evaluations; the next waits until training has doubled, then the run stops on it', async () => {
    // Short evaluations always reach the target (100); a confirmation (finalEvalEpisodes episodes) only from version 10 on.
    const FINAL = testConfig({}).finalEvalEpisodes;
    const evaluator = new (class extends FakeEvaluator {
      override async run(params: Float32Array, version: number, episodes: number) {
        const r = await super.run(params, version, episodes);
        const x = version < 0 ? 9 : episodes === FINAL && version < 10 ? 50 : 150;
        return { ...r, stochastic: x, greedy: x };
      }
    })();
    const { updates, logger } = await run(0.5, { evaluator, steps: 40 * 128, targetReturn: 100 });
    const checks = logger.kind('target-check') as unknown as Array<{ version: number; envSteps: number; reached: boolean }>;
    // v1's evaluation reached the target; its confirmation failed at 128 steps (next from 256). v2 had no
    // evaluation of its own (the cap: v1's used the share), v3's reached it: failed at 384 (next from 768), v4-v7 wait,
    // v8 fails at 1024 (next from 2048), v9-v15 wait, v16 (a version from 10 on) is upheld and ends the run.
    expect(updates[1]!.eval?.stochastic).toBe(50); // v2's record shows v1's failed confirmation, no new evaluation
    expect(checks.map((c) => [c.version, c.envSteps, c.reached])).toEqual([
      [1, 128, false],
      [3, 384, false],
      [8, 1024, false],
      [16, 2048, true],
    ]);
    for (let i = 1; i < checks.length; i++) expect(checks[i]!.envSteps).toBeGreaterThanOrEqual(2 * checks[i - 1]!.envSteps);
    expect(updates.at(-1)!.version).toBe(16);
    // The confirmations' steps are outside the cap: the periodic evaluations kept within it.
    const baseline = 10 * 2 * EVAL_EPISODE_STEPS;
    const confirmSteps = checks.length * FINAL * 2 * EVAL_EPISODE_STEPS;
    for (const u of updates) expect(u.evalEnvSteps! - baseline - confirmSteps).toBeLessThanOrEqual(0.5 * u.envSteps);
    // One line per back-off that made a confirmation wait.
    expect((logger.kind('target-confirm-waits') as unknown as Array<{ confirmAfter: number }>).map((l) => l.confirmAfter)).toEqual([
      768, 2048,
    ]);
  });

  it('without the cap every evaluation runs --eval-episodes', async () => {
    const { evaluator } = await run(undefined);
    expect(evaluator.calls.slice(1, -1).map((c) => c.episodes)).toEqual(Array(8).fill(10));
  });
});
