/**
 * The probe findings against a live learner, each reproduced in-process against the real
 * training loop (fake transport through the real codec, manual clock, real Learner on real
 * CartPole segments) and shown impossible: id hijacking, an unknown peer's made-up rollouts,
 * absurd shapes, a hello answered with the whole history, silent peers kept for ever, forged
 * sequence numbers, late rollouts counted twice, inflated episode returns, anonymous
 * rejection log lines, and a restarted actor's rollouts dropped as duplicates.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../model/backend.js';
import { initParams, modelHash } from '../../../model/params.js';
import { SegmentCollector } from '../../../actor/collect.js';
import { Learner } from '../../../learner/learner.js';
import type { LearnerServerConfig } from '../../../learner/config.js';
import { TrainingLoop } from '../../../learner/loop.js';
import { ParamPublisher } from '../../../learner/publisher.js';
import { Intake } from '../../../learner/intake.js';
import { AckStatus, MsgType, type HelloMsg, type RolloutMsg } from '../../../protocol/messages.js';
import { FakeEvaluator, FakeLearnerTransport, ManualClock, MemoryLogger, testConfig, until, type Sent } from './fakes.js';
import { makeRollout } from '../protocol/helpers.js';

const spec = { obsDim: 4, nActions: 2, hidden: [8] };
const HASH = modelHash(spec);
const T = 16,
  E = 4;

const collectors = new Map<string, SegmentCollector>();
function rollout(actorId: number, seq: number, behaviourVersion: number, params: Float32Array, key = String(actorId)): RolloutMsg {
  let c = collectors.get(key);
  if (!c) collectors.set(key, (c = new SegmentCollector({ envId: 'CartPole-v1', numEnvs: E, seed: 100 + actorId, modelSpec: spec })));
  return { type: MsgType.Rollout, actorId, seq, workerId: 0, behaviourVersion, ...c.collect(params, T) };
}
const hello = (actorId: number, incarnation = 1): HelloMsg => ({
  type: MsgType.Hello,
  actorId,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: E,
  modelHash: HASH,
  incarnation,
});

function rig(over: Partial<LearnerServerConfig> = {}) {
  const cfg = testConfig({ steps: 1_000_000, ...over });
  const transport = new FakeLearnerTransport();
  const clock = new ManualClock();
  const logger = new MemoryLogger();
  const versions: number[] = [];
  const loop = new TrainingLoop({
    cfg,
    spec,
    modelHash: HASH,
    learner: new Learner(spec, cfg, initParams(spec, cfg.seed), cfg.seed),
    transport,
    clock,
    evaluator: new FakeEvaluator(),
    publisher: new ParamPublisher((p, m) => transport.send(p, m), HASH, cfg.historyVersions),
    logger,
    backend: 'test',
    endpoint: 'inproc://unit',
    onUpdate: (r) => versions.push(r.version),
  });
  return { cfg, loop, transport, clock, logger, versions };
}
type Rig = ReturnType<typeof rig>;

/** A real actor: on each new version it receives, one rollout acting with it, and a heartbeat. */
function actor(r: Rig, actorId: number, peerName: string, incarnation = 1) {
  const peer = Buffer.from(peerName);
  let seq = 0;
  let newest = -1;
  const prev = r.transport.onSend;
  r.transport.onSend = (s: Sent) => {
    prev(s);
    if (!s.peer.equals(peer) || s.msg.type !== MsgType.Params || s.msg.version <= newest) return;
    newest = s.msg.version;
    r.transport.push(peer, { type: MsgType.Heartbeat, actorId, incarnation });
    r.transport.push(peer, rollout(actorId, seq++, s.msg.version, s.msg.params, peerName));
  };
  r.transport.push(peer, hello(actorId, incarnation));
  return { peer, seq: () => seq };
}

beforeAll(async () => {
  await initBackend('wasm');
}, 120_000);

describe('a learner among hostile peers', () => {
  it("a hello reusing a live actor's id is refused; the real actor keeps training", async () => {
    const r = rig({ batchSegments: 1, steps: 5 * T * E });
    const a = actor(r, 0, 'real');
    const thief = Buffer.from('thief');
    r.transport.push(thief, hello(0, 99));
    r.transport.push(thief, rollout(0, 0, 0, initParams(spec, 1), 'thief'));
    const s = await r.loop.run();
    expect(r.versions).toEqual([1, 2, 3, 4, 5]);
    expect(r.transport.to(MsgType.Reject, thief).map((m) => m.reason)).toEqual([expect.stringMatching(/^ACTOR_ID_IN_USE: /)]);
    expect(r.transport.to(MsgType.Ack, thief).map((k) => k.status === AckStatus.Rejected && k.code)).toEqual(['UNKNOWN_ACTOR']);
    expect(r.loop.admission.actors.map((x) => x.peer.toString())).toEqual(['real']);
    expect(s.rejectReasons).toMatchObject({ ACTOR_ID_IN_USE: 1, UNKNOWN_ACTOR: 1 });
    expect(r.transport.to(MsgType.Ack, a.peer).filter((k) => k.status === AckStatus.Rejected)).toEqual([]);
    // The refusal log line names the peer that sent it.
    expect(r.logger.kind('rejected').find((x) => x.code === 'ACTOR_ID_IN_USE')).toMatchObject({ peer: thief.toString('hex') });
  });

  it('an unknown peer (actor id 1 with --actors 1) trains nothing: refused hello, its rollouts unknown', async () => {
    const r = rig({ batchSegments: 1, steps: 3 * T * E });
    actor(r, 0, 'real');
    const intruder = Buffer.from('intruder');
    r.transport.push(intruder, hello(1));
    for (let i = 0; i < 5; i++) {
      const fake = rollout(1, i, 0, initParams(spec, 1), 'intruder');
      fake.rewards.fill(1000);
      r.transport.push(intruder, fake);
    }
    const s = await r.loop.run();
    expect(r.transport.to(MsgType.Reject, intruder).map((m) => m.reason)).toEqual([
      expect.stringMatching(/^ACTOR_ID_RANGE: hello.actorId is 1, this run admits 0..0/),
    ]);
    expect(s.rejectReasons).toEqual({ ACTOR_ID_RANGE: 1, UNKNOWN_ACTOR: 5 });
    expect(s.trained).toBe(3); // the real actor's three, nothing of the intruder's
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
  });

  it('absurd shapes are refused before training; a hello buys only the newest parameters', async () => {
    const r = rig({ batchSegments: 1, steps: 2 * T * E });
    const a = actor(r, 0, 'real');
    const big = { ...makeRollout(1024, 256, 4, { episodes: 0 }), actorId: 0, seq: 50, behaviourVersion: 0 };
    r.transport.push(a.peer, big);
    const s = await r.loop.run();
    expect(s.rejectReasons).toEqual({ SHAPE_MISMATCH: 1 });
    const welcome = r.transport.sent.filter((x) => x.peer.equals(a.peer) && x.msg.type === MsgType.Params);
    expect(welcome.map((x) => x.msg.type === MsgType.Params && x.msg.version)).toEqual([0, 1, 2]); // one per version, never a history dump
  });

  it("a heartbeat from a peer the learner does not know (its previous life's actor) is answered UNKNOWN_ACTOR, at most once per hello interval", async () => {
    const r = rig({ batchSegments: 1, steps: 2 * T * E });
    const stranger = Buffer.from('previous-life');
    // Four heartbeats at one instant: one answer (rate limit); then one more after the interval.
    for (let i = 0; i < 4; i++) r.transport.push(stranger, { type: MsgType.Heartbeat, actorId: 0, incarnation: 5 });
    const running = r.loop.run();
    await until(() => r.transport.to(MsgType.Reject, stranger).length === 1, 'one answer');
    r.clock.t += 1000;
    r.transport.push(stranger, { type: MsgType.Heartbeat, actorId: 0, incarnation: 5 });
    await until(() => r.transport.to(MsgType.Reject, stranger).length === 2, 'a second answer after the interval');
    actor(r, 0, 'real');
    const s = await running;
    expect(r.transport.to(MsgType.Reject, stranger).map((m) => m.reason)).toEqual([
      'UNKNOWN_ACTOR: heartbeat from a peer that sent no valid hello',
      'UNKNOWN_ACTOR: heartbeat from a peer that sent no valid hello',
    ]);
    expect(s.rejectReasons).toMatchObject({ UNKNOWN_ACTOR: 5 });
    // A known actor's heartbeats are not answered.
    expect(r.transport.sent.filter((x) => x.peer.equals(Buffer.from('real')) && x.msg.type === MsgType.Reject)).toEqual([]);
  });

  it('silent peers are dropped after missed heartbeats and leave the publish list', async () => {
    const r = rig({ actors: 2, batchSegments: 1, steps: 2 * T * E });
    const ghost = Buffer.from('ghost');
    r.transport.push(ghost, hello(1));
    const running = r.loop.run();
    // No rollouts: the loop idles, the manual clock runs, and the ghost misses its heartbeats.
    await until(() => r.logger.kind('actor-dropped').length === 1, 'the ghost dropped');
    const a = actor(r, 0, 'real');
    await running;
    expect(r.logger.kind('actor-dropped')[0]).toMatchObject({ actorId: 1, silentMs: 5000 });
    expect(r.transport.to(MsgType.Params, ghost).map((m) => m.version)).toEqual([0]); // the welcome only
    expect(r.transport.to(MsgType.Params, a.peer).map((m) => m.version)).toEqual([0, 1, 2]);
    // Its id is free again: a new peer may take it.
    expect(r.loop.admission.actors.map((x) => x.actorId)).toEqual([0]);
  });

  it('forged sequence numbers cannot inflate lost; a late rollout is counted once; made-up returns are refused', async () => {
    const r = rig({ batchSegments: 2, steps: 2 * 2 * T * E });
    const peer = Buffer.from('real');
    const p0 = initParams(spec, r.cfg.seed);
    r.transport.push(peer, hello(0));
    const running = r.loop.run();
    await until(() => r.transport.to(MsgType.Params, peer).length === 1, 'welcome');
    r.transport.push(peer, rollout(0, 2 ** 32 - 2, 0, p0)); // forged: SEQ_GAP
    r.transport.push(peer, rollout(0, 1, 0, p0)); // 0 is late: counted lost for now
    const inflated = rollout(0, 3, 0, p0);
    inflated.episodeReturns = Float32Array.of(1e9);
    inflated.episodeLengths = Int32Array.of(5);
    inflated.terminated[0] = 1;
    r.transport.push(peer, inflated); // BAD_EPISODE (uses seq 3: 2 lost for now)
    r.transport.push(peer, rollout(0, 0, 0, p0)); // the late one: trained, no longer lost
    r.transport.push(peer, rollout(0, 2, 0, p0)); // also late
    await until(() => r.versions.length === 1, 'update 1');
    const p1 = r.transport.to(MsgType.Params, peer).at(-1)!.params;
    r.transport.push(peer, rollout(0, 4, 1, p1));
    r.transport.push(peer, rollout(0, 5, 1, p1));
    const s = await running;
    expect(s.rejectReasons).toEqual({ SEQ_GAP: 1, BAD_EPISODE: 1 });
    expect(s.lost).toBe(0);
    expect(s).toMatchObject({ trained: 4, dropped: 1, rejected: 2 }); // the fifth valid one was queued past the budget: shutdown
    expect(s.received).toBe(s.trained + s.dropped + s.rejected);
    for (const line of r.logger.kind('rejected')) expect(line).toMatchObject({ peerActorId: 0, incarnation: '1' });
  });

  it('a restarted actor (new incarnation) has its sequence numbers start afresh, none dropped as duplicates', async () => {
    const r = rig({ batchSegments: 1, steps: 6 * T * E });
    const peer = Buffer.from('real');
    const p0 = initParams(spec, r.cfg.seed);
    r.transport.push(peer, hello(0, 1));
    const running = r.loop.run();
    for (let i = 0; i < 3; i++) r.transport.push(peer, rollout(0, i, 0, p0));
    await until(() => r.versions.length === 3, 'three updates');
    // The process restarts: a new peer after the old one went silent... here the same id and a new
    // peer would be refused while the old one is live, so the restart reuses the connection's
    // peer (as a reconnecting DEALER may) with a new incarnation.
    r.clock.t += 1000;
    r.transport.push(peer, hello(0, 2));
    const v = r.loop.intake.counts.received;
    for (let i = 0; i < 3; i++) r.transport.push(peer, rollout(0, i, 3, r.transport.to(MsgType.Params, peer).at(-1)!.params));
    const s = await running;
    expect(s.received - v).toBe(3);
    expect(s.dropReasons).toEqual({});
    expect(s.trained).toBe(6);
    expect(r.logger.kind('actor-joined').map((x) => x.incarnation)).toEqual(['1', '2']);
  });
});

describe('Intake: sequence accounting', () => {
  it('counts a bounded gap once, refuses a larger jump, and takes a late rollout off lost', () => {
    const i = new Intake(16, false, 8);
    const q = (seq: number) => ({ msg: { ...makeRollout(2, 2, 4, { episodes: 0 }), actorId: 0, seq }, peer: Buffer.from('p') });
    expect(i.seqRefusal(0, 9)).toMatch(/jumps 9 ahead of the next expected 0, max 8/);
    expect(i.seqRefusal(0, 8)).toBeNull();
    i.offer(q(3));
    expect(i.counts.lost).toBe(3);
    i.offer(q(1));
    expect(i.counts.lost).toBe(2);
    expect(i.offer(q(1))).toBe('duplicate'); // a second copy is a duplicate, not un-lost again
    i.skip(0, 4); // rejected elsewhere: not lost
    i.offer(q(5));
    expect(i.counts.lost).toBe(2);
    i.resetSeq(0);
    expect(i.offer(q(0))).toBeNull();
    expect(i.counts).toMatchObject({ received: 5, dropped: 1, lost: 2, pending: 4 });
  });
});
