/**
 * The training loop driven in-process end to end: a fake transport (messages through the real
 * codec), a manual clock, a fake evaluator, the real Learner on real CartPole segments, the real
 * publisher. Checks what the actors are told (params, typed acks, the Stop message), every
 * accounting rule, the update and summary records, and the stop conditions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { initParams, modelHash } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner } from '../../../learner/learner.js';
import type { LearnerServerConfig } from '../../../learner/config.js';
import { TrainingLoop } from '../../../learner/loop.js';
import { ParamPublisher } from '../../../learner/publisher.js';
import { AckStatus, MsgType, type HelloMsg, type RolloutMsg } from '../../../protocol/messages.js';
import type { SummaryRecord, UpdateRecord } from '../../../protocol/records.js';
import {
  EVAL_EPISODE_STEPS,
  FakeEvaluator,
  FakeLearnerTransport,
  ManualClock,
  MemoryLogger,
  testConfig,
  until,
  type Sent,
} from './fakes.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const HASH = modelHash(spec);
const SEG_SAMPLES = 16 * 4; // T x E of every segment below

const config = (over: Partial<LearnerServerConfig> = {}) => testConfig({ steps: 3 * 2 * SEG_SAMPLES, ...over });

const collectors = new Map<number, SegmentCollector>();
/** A real segment of actor `actorId`'s environments, acting with `params`. */
function rollout(actorId: number, seq: number, behaviourVersion: number, params: Float32Array): RolloutMsg {
  let c = collectors.get(actorId);
  if (!c) collectors.set(actorId, (c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: 4, seed: 100 + actorId, modelSpec: spec })));
  return { type: MsgType.Rollout, actorId, seq, workerId: 0, behaviourVersion, ...c.collect(params, 16) };
}

const hello = (actorId: number): HelloMsg => ({
  type: MsgType.Hello,
  actorId,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: 4,
  modelHash: HASH,
  incarnation: 7,
});

interface Rig {
  loop: TrainingLoop;
  transport: FakeLearnerTransport;
  clock: ManualClock;
  evaluator: FakeEvaluator;
  logger: MemoryLogger;
  updates: UpdateRecord[];
  stopping: string[];
}

function rig(cfg: LearnerServerConfig, evaluator = new FakeEvaluator()): Rig {
  const transport = new FakeLearnerTransport();
  const clock = new ManualClock();
  const logger = new MemoryLogger();
  const updates: UpdateRecord[] = [];
  const stopping: string[] = [];
  const loop = new TrainingLoop({
    cfg,
    spec,
    modelHash: HASH,
    learner: new Learner(spec, cfg, initParams(spec, cfg.seed), cfg.seed),
    transport,
    clock,
    evaluator,
    publisher: new ParamPublisher((p, m) => transport.send(p, m), HASH, cfg.historyVersions),
    logger,
    backend: 'test',
    endpoint: 'inproc://unit',
    onUpdate: (r) => updates.push(r),
    onStopping: (r) => stopping.push(r),
  });
  return { loop, transport, clock, evaluator, logger, updates, stopping };
}

/**
 * A well-behaved actor: on every new parameter version it receives, it sends `perVersion`
 * rollouts acting with that version, with consecutive sequence numbers.
 */
function actor(r: Rig, actorId: number, perVersion: number): { peer: Buffer; seq: () => number } {
  const peer = Buffer.from(`actor-${actorId}`);
  let seq = 0;
  let newest = -1;
  const prev = r.transport.onSend;
  r.transport.onSend = (s: Sent) => {
    prev(s);
    if (!s.peer.equals(peer) || s.msg.type !== MsgType.Params || s.msg.version <= newest) return;
    newest = s.msg.version;
    for (let i = 0; i < perVersion; i++) r.transport.push(peer, rollout(actorId, seq++, s.msg.version, s.msg.params));
  };
  r.transport.push(peer, hello(actorId));
  return { peer, seq: () => seq };
}

function balanced(s: SummaryRecord): void {
  expect(s.received).toBe(s.trained + s.dropped + s.rejected);
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('TrainingLoop, asynchronous mode', () => {
  it('trains to the step budget: params with the acks (a bystander only on hello), one typed ack per rollout, Stop to every actor, balanced accounts', async () => {
    const r = rig(config({ actors: 6 }));
    const a = actor(r, 0, 2);
    const bystander = Buffer.from('bystander');
    r.transport.push(bystander, hello(5));
    const s = await r.loop.run();

    expect(s.stopReason).toBe(`step budget ${3 * 2 * SEG_SAMPLES} reached`);
    expect(r.stopping).toEqual([s.stopReason]);
    expect(s.version).toBe(3);
    expect(s.envSteps).toBe(3 * 2 * SEG_SAMPLES);
    expect(r.updates.map((u) => u.version)).toEqual([1, 2, 3]);
    expect(r.updates.map((u) => u.envSteps)).toEqual([128, 256, 384]);
    expect(r.updates.map((u) => u.trained)).toEqual([2, 4, 6]);
    for (const u of r.updates) {
      expect(u.method).toBe('v5');
      expect(u.samples).toBe(2 * SEG_SAMPLES);
      expect(u.lag).toEqual({ min: 0, mean: 0, max: 0 });
      expect(Number.isFinite(u.policyLoss) && Number.isFinite(u.gradNorm) && u.lr > 0).toBe(true);
    }
    // Annealed learning rate: computed from the steps before each update.
    expect(r.updates[0].lr).toBeGreaterThan(r.updates[2].lr);

    // Parameters: v0 on hello, then each new version with the first ack of the update that made
    // it (before that ack); a registered actor that sends nothing gets v0 only (rollout-rate bound).
    expect(r.transport.to(MsgType.Params, a.peer).map((m) => m.version)).toEqual([0, 1, 2, 3]);
    expect(r.transport.to(MsgType.Params, bystander).map((m) => m.version)).toEqual([0]);
    const toA = r.transport.sent.filter((x) => x.peer.equals(a.peer));
    for (const v of [1, 2, 3]) {
      const pi = toA.findIndex((x) => x.msg.type === MsgType.Params && x.msg.version === v);
      const ai = toA.findIndex((x) => x.msg.type === MsgType.Ack && x.msg.status === AckStatus.Trained && x.msg.version === v);
      expect(pi).toBeGreaterThanOrEqual(0);
      expect(pi).toBe(ai - 1);
    }
    expect(r.transport.to(MsgType.Params).every((m) => m.modelHash === HASH)).toBe(true);

    // Acks: the 6 trained rollouts as Trained at the version that trained them; the ones sent
    // for v3 arrive while stopping (dropped 'shutdown') or are drained (also 'shutdown').
    const acks = r.transport.to(MsgType.Ack, a.peer);
    expect(acks.filter((k) => k.status === AckStatus.Trained).map((k) => [k.seq, k.version])).toEqual([
      [0, 1],
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 3],
      [5, 3],
    ]);
    const dropped = acks.filter((k) => k.status === AckStatus.Dropped);
    expect(dropped.map((k) => k.seq).sort()).toEqual([6, 7]);
    for (const k of dropped) expect(k).toMatchObject({ drop: 'shutdown', detail: 'shutdown: the learner is stopping' });
    expect(acks.length).toBe(a.seq()); // exactly one ack per rollout sent

    // Stop: to every registered actor, after the last parameters.
    for (const p of [a.peer, bystander]) {
      expect(r.transport.to(MsgType.Stop, p)).toEqual([{ type: MsgType.Stop, version: 3, reason: s.stopReason }]);
    }
    expect(r.transport.sent.findIndex((x) => x.msg.type === MsgType.Stop)).toBeGreaterThan(
      r.transport.sent.findLastIndex((x) => x.msg.type === MsgType.Params),
    );

    expect(s).toMatchObject({ trained: 6, dropped: 2, rejected: 0, lost: 0, received: 8, dropReasons: { shutdown: 2 }, rejectReasons: {} });
    balanced(s);
    // Evaluations: the random baseline (version -1), then every version; the final one over finalEvalEpisodes.
    expect(r.evaluator.calls[0]).toMatchObject({ version: -1, episodes: 10 });
    expect(s.randomReturn).toBe(9);
    expect(s.finalEval).toEqual({ stochastic: 13, greedy: 14, episodes: 5, version: 3, envSteps: 2 * 5 * EVAL_EPISODE_STEPS });
    // Evaluation steps are counted apart from training steps: every evaluation run, both modes.
    const evalSteps = r.evaluator.calls.reduce((t, c) => t + 2 * c.episodes * EVAL_EPISODE_STEPS, 0);
    expect(s.evalEnvSteps).toBe(evalSteps);
    expect(s.envSteps).toBe(r.updates[2].envSteps);
    expect(r.updates[2].evalEnvSteps).toBeLessThan(evalSteps); // the final evaluation came after the last update
    expect(r.evaluator.closed).toBe(true);
    expect(r.transport.closed).toBe(true);
    expect(s.wallSeconds).toBeGreaterThanOrEqual(0);
    expect(s.return.episodes).toBe(r.updates[2].return.episodes);
    expect(r.logger.kind('actor-joined').map((x) => x.actorId)).toEqual([0, 5]);
    expect(r.logger.kind('start')[0]).toMatchObject({ endpoint: 'inproc://unit', modelHash: HASH, randomReturn: 9 });
  });

  it('answers every invalid message with the code it counts, logs actor stats, drops stale rollouts', async () => {
    const r = rig(config({ maxLag: 0, steps: 2 * 2 * SEG_SAMPLES }));
    const running = r.loop.run();
    const peer = Buffer.from('actor-0');
    const stranger = Buffer.from('stranger');
    const p0 = initParams(spec, 3);
    let seq = 0;
    const send = (m: RolloutMsg, from = peer) => r.transport.push(from, m);
    r.transport.push(peer, hello(0));
    await until(() => r.transport.to(MsgType.Params, peer).length === 1, 'the hello answer');
    r.transport.pushBytes(peer, Buffer.from('not a message at all'));
    send(rollout(0, 0, 0, p0), stranger); // no hello from this peer
    send(rollout(1, 0, 0, p0)); // the hello said actor 0
    const nan = rollout(0, seq++, 0, p0);
    nan.rewards[3] = NaN;
    send(nan);
    send(rollout(0, seq++, 7, p0)); // behaviour version from the future
    r.transport.push(peer, { type: MsgType.ActorStats, actorId: 0, stats: { fps: 123, segmentsSent: 4 } });
    r.transport.push(stranger, { type: MsgType.ActorStats, actorId: 0, stats: { fps: 1 } });
    r.transport.push(peer, { type: MsgType.Params, version: 0, modelHash: HASH, params: p0 });
    r.clock.t += 1000; // past the hello rate limit
    r.transport.push(peer, { ...hello(0), modelHash: HASH + 1 });
    // Two good rollouts: update 1. Then one of version 0 (lag 1 > max-lag 0: stale), a
    // duplicate, and two of version 1: update 2, the budget.
    send(rollout(0, seq++, 0, p0));
    send(rollout(0, seq++, 0, p0));
    await until(() => r.updates.length === 1, 'update 1');
    const p1 = r.transport.to(MsgType.Params, peer).at(-1)!.params;
    send(rollout(0, seq++, 0, p0));
    send(rollout(0, 0, 1, p1));
    send(rollout(0, seq++, 1, p1));
    send(rollout(0, seq, 1, p1));
    const s = await running;

    expect(s.version).toBe(2);
    const acks = r.transport.to(MsgType.Ack);
    const rejectedAcks = acks.filter((k) => k.status === AckStatus.Rejected);
    expect(rejectedAcks.map((k) => k.code)).toEqual(['UNKNOWN_ACTOR', 'BAD_ACTOR_ID', 'NOT_FINITE', 'FUTURE_VERSION']);
    for (const k of rejectedAcks) expect(k.reason.startsWith(`${k.code}: `)).toBe(true);
    expect(rejectedAcks[3].reason).toBe("FUTURE_VERSION: rollout.behaviourVersion 7 is newer than the learner's 0");
    // Every code answered is the code counted (plus the unanswerable ones: bytes, stats, a Params, a hello).
    const answered: Record<string, number> = {};
    for (const k of rejectedAcks) answered[k.code] = (answered[k.code] ?? 0) + 1;
    expect(s.rejectReasons).toEqual({ ...answered, BAD_MAGIC: 1, UNKNOWN_ACTOR: 2, UNEXPECTED_TYPE: 1, MODEL_HASH: 1 });
    expect(r.transport.to(MsgType.Reject, peer).map((m) => m.reason)).toEqual([expect.stringMatching(/^MODEL_HASH: /)]);

    const dropped = acks.filter((k) => k.status === AckStatus.Dropped);
    expect(dropped.map((k) => [k.seq, k.drop, k.detail])).toEqual([
      [4, 'stale', 'stale: lag 1 > --max-lag 0'],
      [0, 'duplicate', 'duplicate'],
    ]);
    expect(acks.filter((k) => k.status === AckStatus.Trained).map((k) => [k.seq, k.version])).toEqual([
      [2, 1],
      [3, 1],
      [5, 2],
      [6, 2],
    ]);
    // Seqs 0 and 1 were rejected: counted once, as rejected, not also as lost.
    expect(s).toMatchObject({ trained: 4, dropped: 2, rejected: 8, lost: 0, dropReasons: { stale: 1, duplicate: 1 } });
    balanced(s);
    expect(r.logger.kind('actor-stats')).toEqual([{ kind: 'actor-stats', actorId: 0, stats: { fps: 123, segmentsSent: 4 } }]);
    expect(r.logger.kind('rejected').map((x) => x.code)).toEqual([
      'BAD_MAGIC',
      'UNKNOWN_ACTOR',
      'BAD_ACTOR_ID',
      'NOT_FINITE',
      'FUTURE_VERSION',
      'UNEXPECTED_TYPE',
      'MODEL_HASH',
      'UNKNOWN_ACTOR',
    ]);
    // A repeated refusal of one peer and code is not a line of its own: it is counted, and written at the end of its interval (here: of the run).
    expect(r.logger.kind('rejected').at(-1)).toMatchObject({ code: 'UNKNOWN_ACTOR', count: 1, occurrences: 2 });
  });
});

describe('TrainingLoop, deterministic mode', () => {
  it('trains update u on exactly the seqs due, whatever order they arrive in, and waits for each evaluation', async () => {
    // 2 actors x 2 workers, 4 segments per update: actor a contributes seqs 2u, 2u + 1.
    const cfg = config({ deterministic: true, actors: 2, workers: 2, batchSegments: 4, steps: 2 * 4 * SEG_SAMPLES });
    const r = rig(cfg);
    const running = r.loop.run();
    const peers = [Buffer.from('a0'), Buffer.from('a1')];
    r.transport.push(peers[0], hello(0));
    r.transport.push(peers[1], hello(1));
    await until(() => peers.every((p) => r.transport.to(MsgType.Params, p).length === 1), 'both hellos answered');
    const p0 = r.transport.to(MsgType.Params, peers[0])[0].params;
    // Each actor sends in seq order, the two interleaved; actor 0's seq 2 (update 2's) arrives
    // before update 1's batch is complete.
    r.transport.push(peers[1], rollout(1, 0, 0, p0));
    r.transport.push(peers[0], rollout(0, 0, 0, p0));
    r.transport.push(peers[0], rollout(0, 1, 0, p0));
    r.transport.push(peers[0], rollout(0, 2, 0, p0));
    await until(() => r.loop.intake.counts.received === 4, 'four rollouts received');
    expect(r.updates).toHaveLength(0); // actor 1's seq 1 is missing
    r.transport.push(peers[1], rollout(1, 1, 0, p0));
    await until(() => r.updates.length === 1, 'update 1');
    const p1 = r.transport.to(MsgType.Params, peers[0]).at(-1)!.params;
    for (const [a, seq] of [
      [0, 3],
      [1, 2],
      [1, 3],
    ] as const)
      r.transport.push(peers[a], rollout(a, seq, 0, p1));
    const s = await running;

    const trained = r.transport.to(MsgType.Ack).filter((k) => k.status === AckStatus.Trained);
    // Batch order: actor then seq, as the schedule lists the keys.
    const acked = r.transport.sent
      .filter((x) => x.msg.type === MsgType.Ack)
      .map((x) => `${x.peer.toString()}/${(x.msg as { seq: number }).seq}`);
    expect(acked).toEqual(['a0/0', 'a0/1', 'a1/0', 'a1/1', 'a0/2', 'a0/3', 'a1/2', 'a1/3']);
    expect(trained.map((k) => k.version)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    // Behaviour version 0 trained at version 1: lag 1 in update 2.
    expect(r.updates.map((u) => u.lag.max)).toEqual([0, 1]);
    // Deterministic mode waits for every evaluation: each update carries its own.
    expect(r.updates.map((u) => u.eval?.version)).toEqual([1, 2]);
    expect(s).toMatchObject({ version: 2, trained: 8, dropped: 0, rejected: 0, lost: 0, received: 8 });
  });

  it('never drops a scheduled rollout as stale', async () => {
    const cfg = config({ deterministic: true, maxLag: 0, steps: 1 });
    const r = rig(cfg);
    const running = r.loop.run();
    const peer = Buffer.from('a0');
    r.transport.push(peer, hello(0));
    await until(() => r.transport.to(MsgType.Params, peer).length === 1, 'hello answered');
    const p0 = r.transport.to(MsgType.Params, peer)[0].params;
    r.transport.push(peer, rollout(0, 0, 0, p0));
    r.transport.push(peer, rollout(0, 1, 0, p0));
    const s = await running;
    expect(s).toMatchObject({ version: 1, trained: 2, dropped: 0 });
  });
});

describe('TrainingLoop stop conditions', () => {
  it('stops on the time budget of its clock while waiting for rollouts', async () => {
    const r = rig(config({ timeSec: 3 }));
    const s = await r.loop.run();
    expect(s.evalEnvSteps).toBe(2 * (10 + 5) * EVAL_EPISODE_STEPS); // random baseline and final evaluation, no training step
    expect(s.envSteps).toBe(0);
    expect(s.stopReason).toBe('time budget 3 s reached');
    expect(s.version).toBe(0);
    // The clock moved only in the loop's idle polls of 200 ms: 3 s is 15 of them.
    expect(s.wallSeconds).toBe(3);
    expect(r.evaluator.calls.map((c) => [c.version, c.episodes])).toEqual([
      [-1, 10],
      [0, 5],
    ]);
    expect(s).toMatchObject({ received: 0, trained: 0 });
  });

  it('confirms a target over finalEvalEpisodes, stops, and reuses the confirmation as the final evaluation', async () => {
    // The policy "reaches" 500 from version 2 on; asynchronous evaluations attach one update late.
    const evaluator = new FakeEvaluator((v) => (v >= 2 ? 500 : 20));
    const r = rig(config({ targetReturn: 475, steps: 1e9 }), evaluator);
    actor(r, 0, 2);
    const s = await r.loop.run();
    expect(s.stopReason).toMatch(/^the current policy's mean return over 5 episodes, 500\.0, reached the target 475 at \d+ steps$/);
    const checks = r.logger.kind('target-check');
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ target: 475, reached: true, eval: { episodes: 5, stochastic: 500 } });
    const v = s.version;
    expect(s.finalEval).toEqual({ stochastic: 500, greedy: 501, episodes: 5, version: v, envSteps: 2 * 5 * EVAL_EPISODE_STEPS });
    // One evaluation over 5 episodes in all: the confirmation served as the final evaluation.
    expect(evaluator.calls.filter((c) => c.episodes === 5)).toEqual([{ version: v, episodes: 5, nParams: expect.any(Number) }]);
    // The update that first carried a 500 evaluation is the one that triggered the check.
    expect(r.updates.at(-1)!.eval?.stochastic).toBe(500);
    expect(r.updates.slice(0, -1).every((u) => (u.eval?.stochastic ?? 0) < 475)).toBe(true);
  });

  it('a confirmation that falls short does not stop the run', async () => {
    // Short evaluations say 500, long ones 100.
    const evaluator = new FakeEvaluator((v) => (v >= 1 ? 500 : 20));
    const run = evaluator.run.bind(evaluator);
    evaluator.run = async (p, v, n) => ({ ...(await run(p, v, n)), ...(n === 5 ? { stochastic: 100 } : {}) });
    const r = rig(config({ targetReturn: 475, steps: 4 * 2 * SEG_SAMPLES }), evaluator);
    actor(r, 0, 2);
    const s = await r.loop.run();
    expect(s.stopReason).toMatch(/^step budget/);
    const checks = r.logger.kind('target-check');
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((c) => c.reached === false)).toBe(true);
  });

  it('stop(): rollouts arriving while it finishes are dropped as shutdown; queued ones too', async () => {
    const evaluator = new FakeEvaluator();
    evaluator.holdEpisodes = 5; // the final evaluation waits
    const r = rig(config({ batchSegments: 3, steps: 1e9 }), evaluator);
    const running = r.loop.run();
    const peer = Buffer.from('a0');
    r.transport.push(peer, hello(0));
    await until(() => r.transport.to(MsgType.Params, peer).length === 1, 'hello answered');
    const p0 = r.transport.to(MsgType.Params, peer)[0].params;
    r.transport.push(peer, rollout(0, 0, 0, p0)); // queued: a batch needs 3
    await until(() => r.loop.intake.depth === 1, 'one queued');
    r.loop.stop('SIGTERM received');
    r.loop.stop('second signal'); // idempotent
    await until(() => evaluator.waiting === 1, 'the final evaluation');
    r.transport.push(peer, rollout(0, 1, 0, p0));
    await until(() => r.loop.intake.counts.received === 2, 'the late rollout');
    evaluator.release();
    const s = await running;
    expect(s.stopReason).toBe('SIGTERM received');
    expect(r.stopping).toEqual(['SIGTERM received']);
    const acks = r.transport.to(MsgType.Ack, peer);
    expect(acks.map((k) => [k.seq, k.status, k.status === AckStatus.Dropped ? k.drop : ''])).toEqual([
      [0, AckStatus.Dropped, 'shutdown'],
      [1, AckStatus.Dropped, 'shutdown'],
    ]);
    expect(s).toMatchObject({ received: 2, dropped: 2, dropReasons: { shutdown: 2 } });
    expect(r.transport.to(MsgType.Stop, peer)).toEqual([{ type: MsgType.Stop, version: 0, reason: 'SIGTERM received' }]);
  });
});
