import { describe, expect, it } from 'vitest';
import { Admission, refusalOf } from '../../../learner/admission.js';
import { MsgType, type HelloMsg } from '../../../protocol/messages.js';
import { CARTPOLE, makeRollout } from '../protocol/helpers.js';

const HASH = 1234;
const hello = (actorId: number, over: Partial<HelloMsg> = {}): HelloMsg => ({ type: MsgType.Hello, actorId, envId: 'CartPole-v1', obsDim: 4, nActions: 2, numEnvs: 4, modelHash: HASH, ...over });
const admission = (maxLag = -1, deterministic = false) => new Admission({ modelHash: HASH, env: CARTPOLE, maxLag, deterministic });
const P = Buffer.from('peer-a');
const Q = Buffer.from('peer-b');
const roll = (actorId: number, behaviourVersion = 0) => ({ ...makeRollout(4, 2), actorId, seq: 0, behaviourVersion });

describe('Admission: hello', () => {
  it('registers a valid hello once per peer', () => {
    const a = admission();
    expect(a.hello(P, hello(0))).toEqual({ ok: true, joined: true });
    expect(a.hello(P, hello(0))).toEqual({ ok: true, joined: false });
    expect(a.actors).toEqual([{ actorId: 0, peer: P }]);
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
    const v = a.hello(P, h);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.code).toBe(code);
      expect(v.reason.startsWith(`${code}: `)).toBe(true);
    }
    expect(a.actors).toEqual([]);
  });

  it('a reconnecting actor (same id, new peer) replaces its old peer', () => {
    const a = admission();
    a.hello(P, hello(3));
    a.hello(Buffer.from('other'), hello(4));
    expect(a.hello(Q, hello(3))).toEqual({ ok: true, joined: true });
    expect(a.actors.map((x) => [x.actorId, x.peer.toString()])).toEqual([[4, 'other'], [3, 'peer-b']]);
    expect(a.rollout(P, roll(3), 0)?.code).toBe('UNKNOWN_ACTOR');
    expect(a.rollout(Q, roll(3), 0)).toBeNull();
  });
});

describe('Admission: rollouts and stats', () => {
  it('refuses a rollout from an unknown peer, under another actor id, invalid, or from a newer version', () => {
    const a = admission();
    expect(a.rollout(P, roll(0), 5)).toEqual({ code: 'UNKNOWN_ACTOR', reason: 'UNKNOWN_ACTOR: rollout from a peer that sent no valid hello' });
    a.hello(P, hello(0));
    expect(a.rollout(P, roll(1), 5)).toEqual({ code: 'BAD_ACTOR_ID', reason: "BAD_ACTOR_ID: rollout.actorId 1 differs from the hello's 0" });
    const bad = roll(0);
    bad.actions[2] = 5;
    expect(a.rollout(P, bad, 5)?.code).toBe('BAD_ACTION');
    expect(a.rollout(P, roll(0, 6), 5)).toEqual({ code: 'FUTURE_VERSION', reason: "FUTURE_VERSION: rollout.behaviourVersion 6 is newer than the learner's 5" });
    expect(a.rollout(P, roll(0, 5), 5)).toBeNull();
    expect(a.rollout(P, roll(0, 0), 5)).toBeNull(); // old is fine: staleness is a drop, not a refusal
  });

  it('accepts stats only from the actor they name', () => {
    const a = admission();
    const stats = { type: MsgType.ActorStats as const, actorId: 2, stats: { fps: 1 } };
    expect(a.stats(P, stats)?.code).toBe('UNKNOWN_ACTOR');
    a.hello(P, hello(2));
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
