import { describe, expect, it } from 'vitest';
import { Admission, refusalOf } from '../../../learner/admission.js';
import { MsgType, type HelloMsg } from '../../../protocol/messages.js';
import { CARTPOLE, makeRollout } from '../protocol/helpers.js';

const HASH = 1234;
const hello = (actorId: number, over: Partial<HelloMsg> = {}): HelloMsg => ({
  type: MsgType.Hello,
  actorId,
  envId: 'CartPole-v1',
  obsDim: 4,
  nActions: 2,
  numEnvs: 4,
  modelHash: HASH,
  incarnation: 7,
  ...over,
});
const admission = (maxLag = -1, deterministic = false) =>
  new Admission({ modelHash: HASH, env: CARTPOLE, maxLag, deterministic, actors: 8, segmentSteps: 4, envsPerWorker: 2, heartbeatMs: 1000 });
const P = Buffer.from('peer-a');
const Q = Buffer.from('peer-b');
const roll = (actorId: number, behaviourVersion = 0) => ({ ...makeRollout(4, 2, 4, { episodes: 1 }), actorId, seq: 0, behaviourVersion });

describe('Admission: hello', () => {
  it('registers a valid hello once per peer', () => {
    const a = admission();
    expect(a.hello(P, hello(0), 0)).toEqual({ ok: true, joined: true, newIncarnation: true });
    expect(a.hello(P, hello(0), 1000)).toEqual({ ok: true, joined: false, newIncarnation: false });
    expect(a.actors).toEqual([{ actorId: 0, peer: P, incarnation: 7, lastSeen: 1000 }]);
    expect(a.actorOf(P)?.actorId).toBe(0);
    expect(a.actorOf(Q)).toBeUndefined();
  });

  it.each([
    ['model hash', hello(0, { modelHash: HASH + 1 }), 'MODEL_HASH'],
    ['environment', hello(0, { envId: 'Acrobot-v1' }), 'ENV_MISMATCH'],
    ['observation size', hello(0, { obsDim: 6 }), 'ENV_MISMATCH'],
    ['action count', hello(0, { nActions: 3 }), 'ENV_MISMATCH'],
    ['no environments', hello(0, { numEnvs: 0 }), 'SHAPE_MISMATCH'],
  ])('refuses a bad hello (%s) with one code, the reason starting with it, and registers nothing', (_n, h, code) => {
    const a = admission();
    const v = a.hello(P, h, 0);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.code).toBe(code);
      expect(v.reason.startsWith(`${code}: `)).toBe(true);
    }
    expect(a.actors).toEqual([]);
  });

  it('a second peer with an id in use is refused while the holder is live, and replaces it once the holder missed its heartbeats', () => {
    const a = admission();
    a.hello(P, hello(3), 0);
    a.hello(Buffer.from('other'), hello(4), 0);
    const v = a.hello(Q, hello(3, { incarnation: 9 }), 1000);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.code).toBe('ACTOR_ID_IN_USE');
    expect(a.rollout(P, roll(3), 0)).toBeNull(); // the holder keeps training
    expect(a.rollout(Q, roll(3), 0)?.code).toBe('UNKNOWN_ACTOR');
    a.touch(Buffer.from('other'), 5500);
    // 5 intervals of 1000 ms later the holder is silent: the new incarnation replaces it.
    const w = a.hello(Q, hello(3, { incarnation: 9 }), 5001);
    expect(w).toMatchObject({ ok: true, joined: true, newIncarnation: true, replaced: { actorId: 3, incarnation: 7 } });
    expect(a.actors.map((x) => [x.actorId, x.peer.toString()])).toEqual([
      [4, 'other'],
      [3, 'peer-b'],
    ]);
    expect(a.rollout(P, roll(3), 0)?.code).toBe('UNKNOWN_ACTOR');
    expect(a.rollout(Q, roll(3), 0)).toBeNull();
  });

  it('admits ids only below --actors, rate-limits hellos per peer, and expires silent peers', () => {
    const a = admission();
    const v = a.hello(P, hello(8), 0);
    expect(!v.ok && v.code).toBe('ACTOR_ID_RANGE');
    expect(a.hello(Q, hello(1), 0).ok).toBe(true);
    const r = a.hello(Q, hello(1), 100);
    expect(!r.ok && r.code).toBe('RATE_LIMITED');
    expect(a.hello(Q, hello(1), 400)).toEqual({ ok: true, joined: false, newIncarnation: false });
    expect(a.hello(Q, hello(1, { incarnation: 8 }), 800)).toEqual({ ok: true, joined: true, newIncarnation: true });
    expect(a.expire(5800)).toEqual([]);
    expect(a.expire(5801).map((x) => x.actorId)).toEqual([1]);
    expect(a.actors).toEqual([]);
    expect(a.peerFields(Q)).toEqual({ peer: Q.toString('hex') });
  });

  it("refuses a rollout of another shape than the run's, and impossible episode returns", () => {
    const a = admission();
    a.hello(P, hello(0), 0);
    expect(a.rollout(P, { ...makeRollout(1024, 256), actorId: 0, seq: 0, behaviourVersion: 0 }, 0)?.code).toBe('SHAPE_MISMATCH');
    const fake = { ...makeRollout(4, 2, 4, { episodes: 1 }), actorId: 0, seq: 0, behaviourVersion: 0 };
    fake.episodeReturns[0] = 1e6;
    expect(a.rollout(P, fake, 0)?.reason).toMatch(/^BAD_EPISODE: rollout.episodeReturns\[0\] is 1000000/);
  });
});

describe('Admission: rollouts and stats', () => {
  it('refuses a rollout from an unknown peer, under another actor id, invalid, or from a newer version', () => {
    const a = admission();
    expect(a.rollout(P, roll(0), 5)).toEqual({
      code: 'UNKNOWN_ACTOR',
      reason: 'UNKNOWN_ACTOR: rollout from a peer that sent no valid hello',
    });
    a.hello(P, hello(0), 0);
    expect(a.rollout(P, roll(1), 5)).toEqual({
      code: 'BAD_ACTOR_ID',
      reason: "BAD_ACTOR_ID: rollout.actorId 1 differs from the hello's 0",
    });
    const bad = roll(0);
    bad.actions[2] = 5;
    expect(a.rollout(P, bad, 5)?.code).toBe('BAD_ACTION');
    expect(a.rollout(P, roll(0, 6), 5)).toEqual({
      code: 'FUTURE_VERSION',
      reason: "FUTURE_VERSION: rollout.behaviourVersion 6 is newer than the learner's 5",
    });
    expect(a.rollout(P, roll(0, 5), 5)).toBeNull();
    expect(a.rollout(P, roll(0, 0), 5)).toBeNull(); // old is fine: staleness is a drop, not a refusal
  });

  it('accepts stats only from the actor they name', () => {
    const a = admission();
    const stats = { type: MsgType.ActorStats as const, actorId: 2, stats: { fps: 1 } };
    expect(a.stats(P, stats)?.code).toBe('UNKNOWN_ACTOR');
    a.hello(P, hello(2), 0);
    expect(a.stats(P, stats)).toBeNull();
    expect(a.stats(P, { ...stats, actorId: 0 })?.code).toBe('BAD_ACTOR_ID');
  });

  it('drops stale rollouts only in asynchronous mode with a max lag, and everything while stopping', () => {
    expect(admission(2).dropFor(2, false)).toBeNull();
    expect(admission(2).dropFor(3, false)).toEqual({ drop: 'stale', detail: 'stale: lag 3 > --max-lag 2' });
    expect(admission(-1).dropFor(1000, false)).toBeNull();
    expect(admission(0, true).dropFor(5, false)).toBeNull();
    expect(admission(-1).dropFor(0, true)).toEqual({ drop: 'shutdown', detail: 'shutdown: the learner is stopping' });
  });

  it('refusalOf keeps a coded reason and wraps an uncoded one as INTERNAL', () => {
    expect(refusalOf('NOT_FINITE: x[0] is NaN')).toEqual({ code: 'NOT_FINITE', reason: 'NOT_FINITE: x[0] is NaN' });
    expect(refusalOf('something odd')).toEqual({ code: 'INTERNAL', reason: 'INTERNAL: something odd' });
  });
});
