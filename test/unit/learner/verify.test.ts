/**
 * Claims an admitted actor makes, checked against what the learner can recompute: honest
 * segments from the real collector pass every check (over many segments of every built-in env
 * family), forged rewards, returns, lengths and log mu are refused with their codes.
 */
import { describe, expect, it } from 'vitest';
import { SegmentCollector, type BehaviourOptions } from '../../../actor/collect.js';
import { initParams } from '../../../model/params.js';
import { envSpecOf, modelSpecFor } from '../../../envs/registry.js';
import { MsgType, type RolloutMsg } from '../../../protocol/messages.js';
import { validateEpisodes, validateRewards, validateRollout } from '../../../protocol/validate.js';
import { ClaimVerifier } from '../../../learner/verify.js';
import { Rng } from '../../../model/rng.js';

function rollouts(
  envId: string,
  n: number,
  T: number,
  E: number,
  seed = 1,
  behaviour?: BehaviourOptions,
): { msgs: RolloutMsg[]; params: Float32Array[] } {
  const spec = modelSpecFor(envId, [16, 16]);
  const c = new SegmentCollector({ envId, numEnvs: E, seed, modelSpec: spec, ...(behaviour ? { behaviour } : {}) });
  const params = [0, 1, 2].map((v) => initParams(spec, seed * 10 + v));
  const msgs: RolloutMsg[] = [];
  for (let i = 0; i < n; i++) {
    const v = i % 3;
    const seg = c.collect(params[v], T);
    msgs.push({ type: MsgType.Rollout, actorId: 0, seq: i, workerId: 0, behaviourVersion: v, ...seg });
  }
  return { msgs, params };
}

const reasonOf = (v: ReturnType<ClaimVerifier['check']>): string | undefined => (v && 'reason' in v ? v.reason : undefined);

function verifier(envId: string, params: Float32Array[], o: { share?: number; teacherEps?: number | null } = {}): ClaimVerifier {
  const v = new ClaimVerifier({ spec: modelSpecFor(envId, [16, 16]), ...o });
  params.forEach((p, i) => v.note(i, p));
  return v;
}

describe('honest segments pass every claim check', () => {
  for (const [envId, n, T, E] of [
    ['CartPole-v1', 60, 64, 8],
    ['Acrobot-v1', 20, 128, 4],
    ['MountainCar-v0', 20, 128, 4],
    ['Pendulum-v1', 20, 128, 4],
    ['MountainCarContinuous-v0', 12, 256, 2],
  ] as const) {
    it(`${envId}: ${n} segments of ${T} x ${E}, episodes finished inside and across segments`, () => {
      const env = envSpecOf(envId);
      const { msgs, params } = rollouts(envId, n, T, E);
      const v = verifier(envId, params);
      let episodes = 0;
      for (const m of msgs) {
        expect(validateRollout(m, env)).toBeNull();
        expect(validateRewards(m, env)).toBeNull();
        expect(validateEpisodes(m, env)).toBeNull();
        expect(v.check(m)).toBeNull();
        episodes += m.episodeReturns.length;
      }
      expect(v.rowsChecked).toBe(n * T * E);
      if (envId !== 'MountainCarContinuous-v0' && envId !== 'MountainCar-v0') expect(episodes).toBeGreaterThan(0);
    });
  }

  it('sequence tasks with a teacher: teacher rows hold one of its two log mu values', () => {
    const b = { groupSize: 4, teacherShare: 0.5, teacherEps: 0.1 };
    const envId = 'seq-reverse';
    const env = envSpecOf(envId);
    const { msgs, params } = rollouts(envId, 6, 16, 8, 2, b);
    const v = verifier(envId, params, { teacherEps: 0.1 });
    for (const m of msgs) {
      expect(m.source).toEqual(Uint8Array.from([1, 1, 0, 0, 1, 1, 0, 0]));
      expect(validateRewards(m, env)).toBeNull();
      expect(validateEpisodes(m, env)).toBeNull();
      expect(v.check(m)).toBeNull();
    }
    expect(v.rowsChecked).toBe(6 * 16 * 4); // the policy rows only
    const forged = structuredClone(msgs[0]);
    forged.logmu[0] = -0.01; // env 0 is the teacher's
    expect(reasonOf(v.check(forged))).toMatch(/^BAD_LOGPROB: rollout.logmu\[0\] is -0.00999\d+, a teacher row's is/);
    const noTeacher = verifier(envId, params, { teacherEps: null });
    expect(reasonOf(noTeacher.check(msgs[0]))).toMatch(/this run has no teacher/);
  });
});

describe('forged claims are refused', () => {
  const env = envSpecOf('CartPole-v1');
  const { msgs, params } = rollouts('CartPole-v1', 6, 64, 8);

  it('a reward of 3e38, or above the declared range, is BAD_REWARD', () => {
    const m = structuredClone(msgs[0]);
    m.rewards[5] = 3e38;
    expect(validateRewards(m, env)).toMatch(/^BAD_REWARD: rollout.rewards\[5\] is 3\.0000000\d*e\+38, env CartPole-v1 declares \[0, 1\]/);
    m.rewards[5] = 1.001;
    expect(validateRewards(m, env)).toMatch(/^BAD_REWARD/);
    // an env without a declared range: the default bound
    const user = { ...env, id: 'user', rewardRange: undefined };
    m.rewards[5] = 2e6;
    expect(validateRewards(m, user)).toMatch(/^BAD_REWARD: .* declares no range; the learner assumes \[-1000000, 1000000\]/);
    m.rewards[5] = 5e5;
    expect(validateRewards(m, user)).toBeNull();
  });

  it('a return of 1000 for CartPole, a return that differs from its rewards, a length that differs from its steps are BAD_EPISODE', () => {
    const m = msgs.find((x) => x.episodeReturns.length > 0)!;
    expect(m).toBeDefined();
    const a = structuredClone(m);
    a.episodeReturns[0] = 1000;
    expect(validateEpisodes(a, env)).toMatch(/^BAD_EPISODE: rollout.episodeReturns\[0\] is 1000/);
    const shortOne = msgs.flatMap((x) => [...x.episodeLengths]).some((l) => l < 64);
    expect(shortOne).toBe(true);
    const c = structuredClone(m);
    c.episodeLengths[0] = 501;
    expect(validateEpisodes(c, env)).toMatch(/^BAD_EPISODE: rollout.episodeLengths\[0\] is 501, env CartPole-v1 truncates at 500/);
    // an episode that started inside the segment: its length must be its steps there, its return their sum
    let found = false;
    for (const x of msgs) {
      for (let i = 0; i < x.episodeLengths.length && !found; i++) {
        const y = structuredClone(x);
        y.episodeReturns[i] -= 1; // CartPole: return = length; one less is possible only for an episode partly before the segment
        const bad = validateEpisodes(y, env);
        if (bad !== null) {
          expect(bad).toMatch(/^BAD_EPISODE: rollout.episodeReturns/);
          found = true;
        }
      }
    }
    expect(found).toBe(true);
  });

  it('log mu of -3e38 with flipped actions, or the right log mu for a flipped action, is BAD_LOGPROB', () => {
    const v = verifier('CartPole-v1', params);
    const m = structuredClone(msgs[1]);
    for (let i = 0; i < m.actions.length; i++) {
      m.actions[i] = 1 - m.actions[i];
      m.logmu[i] = -3e38;
    }
    expect(v.check(m)).toMatchObject({ code: 'BAD_LOGPROB' });
    const one = structuredClone(msgs[2]);
    one.actions[7] = 1 - one.actions[7]; // log mu left as the other action's
    expect(reasonOf(v.check(one))).toMatch(/^BAD_LOGPROB: rollout.logmu\[7\] is -?[\d.e-]+, the behaviour version 2 gives/);
    // claimed under another version than the one that acted
    const other = { ...structuredClone(msgs[0]), behaviourVersion: 1 };
    expect(v.check(other)).toMatchObject({ code: 'BAD_LOGPROB' });
    expect(v.refused).toBe(3);
  });

  it('a sampled share catches a rollout with every row forged, and most single-row forgeries in proportion', () => {
    const v = verifier('CartPole-v1', params, { share: 0.25 });
    let caught = 0;
    const rng = new Rng(9);
    for (let k = 0; k < 200; k++) {
      const m = structuredClone(msgs[k % 3]);
      const i = rng.int(m.actions.length);
      m.actions[i] = 1 - m.actions[i];
      if (v.check(m) !== null) caught++;
    }
    expect(caught).toBeGreaterThan(20);
    expect(caught).toBeLessThan(100);
    const all = structuredClone(msgs[0]);
    for (let i = 0; i < all.logmu.length; i++) all.logmu[i] = -3e38;
    expect(v.check(all)).toMatchObject({ code: 'BAD_LOGPROB' });
    expect(v.rowsChecked).toBeLessThan(201 * 512 * 0.4);
  });

  it('a behaviour version no longer held is dropped as stale, never trained unverified', () => {
    const v = new ClaimVerifier({ spec: modelSpecFor('CartPole-v1', [16, 16]) });
    for (let k = 0; k < 70; k++) v.note(k, params[k % 3]);
    expect(v.holds(0)).toBe(false);
    expect(v.check(msgs[0])).toMatchObject({ drop: 'stale' });
  });
});
