import { describe, expect, it } from 'vitest';
import { CANNOT_LEARN_MS, CANNOT_LEARN_ROLLOUTS, EvalSchedule, StopPolicy } from '../../../learner/stopPolicy.js';
import type { EvalStat } from '../../../protocol/records.js';

const T0 = 5_000_000;
const ev = (stochastic: number, version = 3, episodes = 10): EvalStat => ({ stochastic, greedy: stochastic, episodes, version });

describe('StopPolicy', () => {
  it('step budget first, then the time budget of the given clock readings', () => {
    const p = new StopPolicy({ steps: 1000, timeSec: 2, targetReturn: null }, T0);
    expect(p.budgetReached(999, T0 + 1999)).toBeNull();
    expect(p.budgetReached(1000, T0)).toBe('step budget 1000 reached');
    expect(p.budgetReached(5, T0 + 2000)).toBe('time budget 2 s reached');
    expect(p.budgetReached(5000, T0 + 9000)).toBe('step budget 1000 reached');
  });

  it('no time budget when timeSec is 0', () => {
    expect(new StopPolicy({ steps: 10, timeSec: 0, targetReturn: null }, T0).budgetReached(0, T0 + 1e12)).toBeNull();
  });

  it('asks for a confirmation when an evaluation reaches the target, and stops only if it holds', () => {
    const p = new StopPolicy({ steps: 10, timeSec: 0, targetReturn: 475 }, T0);
    expect(p.needsConfirmation(undefined)).toBe(false);
    expect(p.needsConfirmation(ev(474.9))).toBe(false);
    expect(p.needsConfirmation(ev(475))).toBe(true);
    expect(p.confirmed(ev(470, 3, 100), 9000)).toBeNull();
    expect(p.confirmed(ev(480.04, 3, 100), 9000)).toBe(
      "the current policy's mean return over 100 episodes, 480.0, reached the target 475 at 9000 steps",
    );
  });

  it('without a target nothing needs confirming', () => {
    const p = new StopPolicy({ steps: 10, timeSec: 0, targetReturn: null }, T0);
    expect(p.needsConfirmation(ev(1e9))).toBe(false);
    expect(p.confirmed(ev(1e9), 1)).toBeNull();
  });
});

describe('EvalSchedule', () => {
  it('evaluates every N versions, never when N is 0', () => {
    const e = new EvalSchedule({ evalEvery: 3, evalEpisodes: 10, finalEvalEpisodes: 100 });
    expect([1, 2, 3, 4, 5, 6, 9].filter((v) => e.due(v))).toEqual([3, 6, 9]);
    expect(new EvalSchedule({ evalEvery: 0, evalEpisodes: 10, finalEvalEpisodes: 100 }).due(0)).toBe(false);
  });

  it('reuses a confirmation as the final evaluation only for the same version and episode count', () => {
    const e = new EvalSchedule({ evalEvery: 1, evalEpisodes: 10, finalEvalEpisodes: 100 });
    const c = ev(500, 7, 100);
    expect(e.reusableFinal(c, 7)).toBe(c);
    expect(e.reusableFinal(c, 8)).toBeUndefined();
    expect(e.reusableFinal(ev(500, 7, 10), 7)).toBeUndefined();
    expect(e.reusableFinal(undefined, 7)).toBeUndefined();
  });
});

describe('StopPolicy.cannotLearn', () => {
  const counts = (trained: number, rejected: number, dropped = 0) => ({
    trained,
    rejected,
    dropped,
    rejectReasons: (rejected > 0 ? { NOT_FINITE: rejected } : {}) as Record<string, number>,
    dropReasons: (dropped > 0 ? { stale: dropped } : {}) as Record<string, number>,
  });

  it('stops only when both the while and the count have passed with nothing trained, and names the codes', () => {
    const p = new StopPolicy({ steps: 1e9, timeSec: 0, targetReturn: null }, 0);
    expect(p.cannotLearn(counts(0, 0), 0)).toBeNull(); // the mark
    // Many refusals, but not for long enough.
    expect(p.cannotLearn(counts(0, 10_000), CANNOT_LEARN_MS - 1)).toBeNull();
    // Long enough, but too few.
    const q = new StopPolicy({ steps: 1e9, timeSec: 0, targetReturn: null }, 0);
    q.cannotLearn(counts(0, 0), 0);
    expect(q.cannotLearn(counts(0, CANNOT_LEARN_ROLLOUTS - 1), 10 * CANNOT_LEARN_MS)).toBeNull();
    // Both: the reason, with the counts by code since the mark.
    const why = p.cannotLearn(counts(0, 300, 50), CANNOT_LEARN_MS);
    expect(why).toMatch(
      /^cannot learn: all 350 rollouts received in the last 30 s were refused or dropped, none trained \(rejected NOT_FINITE 300, dropped stale 50\)/,
    );
  });

  it('a trained rollout moves the mark: refusals before it do not count', () => {
    const p = new StopPolicy({ steps: 1e9, timeSec: 0, targetReturn: null }, 0);
    p.cannotLearn(counts(0, 0), 0);
    expect(p.cannotLearn(counts(1, 5000), CANNOT_LEARN_MS)).toBeNull(); // one trained: new mark at 30 s
    expect(p.cannotLearn(counts(1, 5000 + CANNOT_LEARN_ROLLOUTS), 2 * CANNOT_LEARN_MS - 1)).toBeNull();
    expect(p.cannotLearn(counts(1, 5000 + CANNOT_LEARN_ROLLOUTS), 2 * CANNOT_LEARN_MS)).toMatch(/all 200 rollouts/);
  });
});
